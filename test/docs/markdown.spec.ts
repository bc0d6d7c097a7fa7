import { fencedBlocks, withoutFencedBlocks } from './markdown-blocks.js';
import { anchors, links, slug } from './markdown-links.js';

// What the docs checks read out of a page: fenced blocks (with the page line of their first code
// line), headings' anchors as GitHub makes them, and links outside code.

describe('fencedBlocks', () => {
  it.each<{ name: string; page: string[]; blocks: { lang: string; line: number; code: string }[] }>([
    { name: 'a ts block', page: ['# T', '```ts', 'const a = 1;', '```'], blocks: [{ lang: 'ts', line: 3, code: 'const a = 1;' }] },
    { name: 'the info string: first word, lower case', page: ['```TypeScript title="x"', 'x', '```'], blocks: [{ lang: 'typescript', line: 2, code: 'x' }] },
    { name: 'no language', page: ['```', 'x', '```'], blocks: [{ lang: '', line: 2, code: 'x' }] },
    { name: 'tildes', page: ['~~~sh', 'npm test', '~~~'], blocks: [{ lang: 'sh', line: 2, code: 'npm test' }] },
    {
      name: 'a shorter fence inside a longer one is code',
      page: ['````md', '```ts', 'x', '```', '````'],
      blocks: [{ lang: 'md', line: 2, code: '```ts\nx\n```' }],
    },
    {
      name: 'in a list item: the indentation taken off',
      page: ['- item:', '', '  ```ts', '  if (a) {', '    b();', '  }', '  ```'],
      blocks: [{ lang: 'ts', line: 4, code: 'if (a) {\n  b();\n}' }],
    },
    { name: 'an unclosed block runs to the end', page: ['```ts', 'a', 'b'], blocks: [{ lang: 'ts', line: 2, code: 'a\nb' }] },
    { name: 'a code span of backticks is no fence', page: ['```` ```ts ```` is a code span', 'text'], blocks: [] },
    {
      name: 'two blocks, line numbers of each',
      page: ['```ts', 'a', '```', '', 'text', '```json', '{}', '```'],
      blocks: [
        { lang: 'ts', line: 2, code: 'a' },
        { lang: 'json', line: 7, code: '{}' },
      ],
    },
  ])('$name', ({ page, blocks }) => {
    expect(fencedBlocks(page.join('\n')).map(({ lang, line, code }) => ({ lang, line, code }))).toEqual(blocks);
  });

  it('withoutFencedBlocks blanks the blocks, fences included, and keeps the line count', () => {
    const page = ['a', '```ts', '# not a heading', '```', 'b'].join('\n');
    expect(withoutFencedBlocks(page)).toBe(['a', '', '', '', 'b'].join('\n'));
  });
});

describe('slug (GitHub heading anchors)', () => {
  it.each([
    ['Install', 'install'],
    ['Read-your-writes across requests', 'read-your-writes-across-requests'],
    ['Testing your app on a real cluster: `nestjs-pindb/testing`', 'testing-your-app-on-a-real-cluster-nestjs-pindbtesting'],
    ['Coming from django-pindb / django-multidb-router', 'coming-from-django-pindb--django-multidb-router'],
    ['Why AsyncLocalStorage, not Scope.REQUEST', 'why-asynclocalstorage-not-scoperequest'],
    ['`fingerprint(req)`', 'fingerprintreq'],
    ["The token's life", 'the-tokens-life'],
    ['[A link](x.md) and **bold**', 'a-link-and-bold'],
    ['snake_case stays', 'snake_case-stays'],
  ])('%s → #%s', (heading, anchor) => {
    expect(slug(heading)).toBe(anchor);
  });

  it('numbers repeated headings as GitHub does, and skips headings in code blocks', () => {
    const page = ['# Errors', '## Errors', '```md', '# Errors', '```', '### Errors'].join('\n');
    expect([...anchors(page)]).toEqual(['errors', 'errors-1', 'errors-2']);
  });
});

describe('links', () => {
  it('finds inline links, images and reference definitions, with their lines, outside code', () => {
    const page = [
      'See [options](options.md#forrootasync) and ![logo](img/logo.png "Logo").', // 1
      '`[not a link](x.md)` but [this](<a b.md>)', //                              2
      '```md', //                                                                  3
      '[in a block](y.md)', //                                                     4
      '```', //                                                                    5
      '[ref]: ../README.md', //                                                    6
      '[nested [brackets]](z.md)', //                                              7
    ].join('\n');
    expect(links(page)).toEqual([
      { target: 'options.md#forrootasync', line: 1 },
      { target: 'img/logo.png', line: 1 },
      { target: 'a b.md', line: 2 },
      { target: '../README.md', line: 6 },
      { target: 'z.md', line: 7 },
    ]);
  });
});
