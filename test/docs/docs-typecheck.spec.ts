import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { brokenLinks } from './link-check.js';
import { fencedBlocks } from './markdown-blocks.js';
import { typecheckBlocks, type BlockFailure, type DocPage } from './typecheck-blocks.js';

// The docs as code: every TypeScript block of the pages compiles against lib/ (strict, with
// decorators, as tsconfig.json says), and every relative link leads to a file and heading of the
// repository. docs/*.md is globbed, so a new page is checked without being listed here.
const root = join(import.meta.dirname, '../..');
const PAGES = ['README.md', 'CONTRIBUTING.md', 'CHANGELOG.md', 'bench/README.md'];
const read = (file: string): DocPage => ({ file, text: readFileSync(join(root, file), 'utf8') });
const docsPages = () =>
  readdirSync(join(root, 'docs'))
    .filter((name) => name.endsWith('.md'))
    .sort()
    .map((name) => `docs/${name}`);

/** A page that exists only here: a block with a type error on a known line, next to blocks that are fine. */
const FIXTURE: DocPage = {
  file: 'test/docs/fixture.md',
  text: [
    '# A fixture', //                                                          1
    '', //                                                                     2
    '```ts', //                                                                3
    "import { RoutingService } from 'nestjs-pindb';", //                       4
    'declare const routing: RoutingService;', //                               5
    "const where: 'primary' | 'replica' = routing.target('default');", //     6
    'routing.pin(42);', //                                                     7: a number where a set name goes
    '```', //                                                                  8
    '', //                                                                     9
    '```sh', //                                                               10: not TypeScript: never compiled
    'npm install nestjs-pindb && let x: number = "not checked"', //           11
    '```', //                                                                 12
    '', //                                                                    13
    '- In a list:', //                                                        14
    '', //                                                                    15
    '  ```typescript', //                                                     16
    "  import { startPgCluster } from 'nestjs-pindb/testing';", //            17
    "  import { RedisPinStore } from 'nestjs-pindb/redis';", //               18
    "  import { PinDbHealthIndicator } from 'nestjs-pindb/terminus';", //     19
    '  const cluster = await startPgCluster({ replicas: 1 });', //            20
    "  const store: RedisPinStore = new RedisPinStore({ prefix: 'x:' });", // 21
    '  export { cluster, store, PinDbHealthIndicator };', //                  22
    '  ```', //                                                               23
    '', //                                                                    24
    '```ts', //                                                               25: each block is its own module
    "const where: 'primary' = 'primary';", //                                 26
    'export { where };', //                                                   27
    '```', //                                                                 28
  ].join('\n'),
};

const describeFailure = ({ file, line, message }: BlockFailure) => `${file}:${line} ${message}`;

describe('the docs', () => {
  let pages: DocPage[];
  let failures: BlockFailure[];

  beforeAll(() => {
    pages = [...PAGES, ...docsPages()].map(read);
    // One program for every block, the fixture's too: the libraries are read and checked once.
    failures = typecheckBlocks(root, [...pages, FIXTURE]);
  }, 180_000);

  it('cover the README, CONTRIBUTING, CHANGELOG, the bench page and docs/*.md, with TypeScript examples', () => {
    expect(pages.map((page) => page.file)).toEqual(expect.arrayContaining([...PAGES, 'docs/getting-started.md', 'docs/options.md', 'docs/routing.md']));
    const tsBlocks = pages.flatMap((page) => fencedBlocks(page.text)).filter((block) => block.lang === 'ts' || block.lang === 'typescript');
    expect(tsBlocks.length).toBeGreaterThan(20);
  });

  it('every ```ts block of every page compiles (strict, decorators, nestjs-pindb* from lib/)', () => {
    expect(failures.filter((failure) => failure.file !== FIXTURE.file).map(describeFailure)).toEqual([]);
  });

  it('the checker reports a block with a type error at its page and line, and only that one', () => {
    expect(failures.filter((failure) => failure.file === FIXTURE.file).map(describeFailure)).toEqual([
      `${FIXTURE.file}:7 Argument of type 'number' is not assignable to parameter of type 'string'.`,
    ]);
  });

  it('every relative link leads to a file of the repository, and every #anchor to a heading', () => {
    expect(brokenLinks(root, pages).map(({ file, line, target, reason }) => `${file}:${line} (${target}): ${reason}`)).toEqual([]);
  });

  it('the link check catches a missing file, a missing anchor and a path out of the repository', () => {
    const page: DocPage = {
      file: 'docs/fixture.md',
      text: '# Here\n[ok](#here) [ok](../README.md) [ok](https://example.com/x.md)\n[gone](./nowhere.md)\n[anchor](#there) `[in code](#nope)`\n[out](../../elsewhere.md)\n',
    };
    expect(brokenLinks(root, [page]).map(({ line, target }) => `${line} ${target}`)).toEqual(['3 ./nowhere.md', '4 #there', '5 ../../elsewhere.md']);
  });

  it('no page mentions files outside the repository', () => {
    const outside = /design\.md|\.\.\/shared/i;
    expect(pages.filter((page) => outside.test(page.text)).map((page) => page.file)).toEqual([]);
  });

  it("the README gives CI's commands (.ci/run) as the way to install and test", () => {
    const ciCommands = readFileSync(join(root, '.ci/run'), 'utf8')
      .split('\n')
      .filter((line) => /^npm /.test(line));
    expect(ciCommands).toEqual(['npm install', 'npm test']);
    const readmeCommands = fencedBlocks(read('README.md').text)
      .filter((block) => block.lang === 'sh')
      .flatMap((block) => block.code.split('\n').map((line) => line.replace(/\s+#.*$/, '').trim()));
    expect(readmeCommands).toEqual(expect.arrayContaining(ciCommands));
  });
});
