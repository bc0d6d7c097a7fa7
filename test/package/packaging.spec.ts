import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PgCluster, startPgCluster } from '../../lib/testing/index.js';
import { callScratchApp, ScratchApp, startScratchApp } from '../support/packaging-app.js';
import { assertBuilt, assertRegistryReachable, installedVersion, installStack, makeScratchDir, packTarball, Stack } from '../support/packaging-scratch.js';

// The published package as NestJS teams install it: `npm pack` of the built repository, installed
// with plain `npm install` (an ERESOLVE fails the spec) next to each supported stack, in a scratch
// app outside the repository; there, plain JavaScript apps, one CommonJS and one ES module, boot
// PinDbModule on a real primary + replica and route a read and a pinned write over HTTP.

const root = join(import.meta.dirname, '../..');
const fixtures = join(import.meta.dirname, 'fixtures');
const APPS = [
  { file: 'app.cjs', loads: "require('nestjs-pindb')" },
  { file: 'app.mjs', loads: "import from 'nestjs-pindb'" },
];
// npm installs take minutes on a loaded machine; the two stacks install at the same time.
const INSTALL_TIMEOUT_MS = 10 * 60_000;
const SECRET = 'a packaging test secret that is long enough';

const common = { pg: '^8.11.0', 'reflect-metadata': '^0.2.0', rxjs: '^7.2.0' };
const STACKS: Stack[] = [
  {
    id: 'nest11-typeorm03',
    label: 'NestJS 11, @nestjs/typeorm 11, TypeORM 0.3',
    packages: { '@nestjs/common': '^11', '@nestjs/core': '^11', '@nestjs/platform-express': '^11', '@nestjs/typeorm': '^11', typeorm: '^0.3', ...common },
    expectedVersions: { '@nestjs/common': '11.', '@nestjs/core': '11.', '@nestjs/platform-express': '11.', '@nestjs/typeorm': '11.', typeorm: '0.3.' },
  },
  {
    id: 'nest12-typeorm1',
    label: 'NestJS 12, @nestjs/typeorm 12, TypeORM 1',
    packages: { '@nestjs/common': '^12', '@nestjs/core': '^12', '@nestjs/platform-express': '^12', '@nestjs/typeorm': '^12', typeorm: '^1', ...common },
    expectedVersions: { '@nestjs/common': '12.', '@nestjs/core': '12.', '@nestjs/platform-express': '12.', '@nestjs/typeorm': '12.', typeorm: '1.' },
  },
];

let cluster: PgCluster | undefined;
let packDir: string | undefined;
const scratchDirs = new Map<string, string>();
const installs = new Map<string, Promise<void>>();

/** The scratch app of `stack` once its install has succeeded (rethrows npm's failure otherwise). */
async function installed(stack: Stack): Promise<string> {
  const install = installs.get(stack.id);
  if (!install) throw new Error('The installs did not start: see the failure of the first beforeAll.');
  await install;
  return scratchDirs.get(stack.id)!;
}

beforeAll(async () => {
  await assertBuilt(root);
  await assertRegistryReachable();
  packDir = await mkdtemp(join(tmpdir(), 'nestjs-pindb-pack-'));
  const tarball = await packTarball(root, packDir);
  for (const stack of STACKS) {
    const dir = await makeScratchDir(stack);
    scratchDirs.set(stack.id, dir);
    const install = installStack(stack, dir, tarball, [...APPS.map(({ file }) => join(fixtures, file)), join(fixtures, 'notes-app.cjs')]);
    install.catch(() => undefined); // reported by that stack's tests, which await it
    installs.set(stack.id, install);
  }
  cluster = await startPgCluster({ replicas: 1 });
}, INSTALL_TIMEOUT_MS);

afterAll(async () => {
  await Promise.allSettled(installs.values());
  await cluster?.stop();
  await Promise.all([...scratchDirs.values(), packDir].filter((dir) => dir !== undefined).map((dir) => rm(dir, { recursive: true, force: true })));
}, INSTALL_TIMEOUT_MS);

describe.each(STACKS)('the packed nestjs-pindb on $label', (stack) => {
  it(
    "installs with plain npm install (no ERESOLVE, no --legacy-peer-deps) at the stack's versions, sharing the app's copies of its peers",
    async () => {
      const dir = await installed(stack);
      const versions = Object.fromEntries(
        await Promise.all(Object.keys(stack.expectedVersions).map(async (name) => [name, await installedVersion(dir, name)] as const)),
      );
      const atExpected = Object.entries(stack.expectedVersions).map(([name, prefix]) => [
        name,
        expect.stringMatching(new RegExp(`^${prefix.replaceAll('.', '\\.')}`)),
      ]);
      expect(versions).toEqual(Object.fromEntries(atExpected));
      expect(await installedVersion(dir, 'nestjs-pindb')).toBeDefined();
      // A peer installed under nestjs-pindb would be a second @nestjs/common or typeorm: Nest's DI and TypeORM's metadata split in two.
      for (const name of Object.keys(stack.packages)) expect(existsSync(join(dir, 'node_modules/nestjs-pindb/node_modules', name))).toBe(false);
    },
    INSTALL_TIMEOUT_MS,
  );

  describe.each(APPS)('$file ($loads), plain JavaScript', ({ file }) => {
    const table = `packaged_notes_${stack.id.replace(/\W/g, '_')}_${file.replace('.', '_')}`;
    let app: ScratchApp | undefined;

    beforeAll(async () => {
      const dir = await installed(stack);
      app = await startScratchApp(dir, file, {
        DATABASE_URL: cluster!.primary.url,
        REPLICA_URL: cluster!.replicas[0].url,
        NOTES_TABLE: table,
        PINDB_SECRET: SECRET,
      });
    }, INSTALL_TIMEOUT_MS);
    afterAll(() => app?.stop());

    it('boots PinDbModule.forRoot; a GET reads through the routed DataSource from the replica', async () => {
      const read = await callScratchApp(app!, 'GET', '/port');
      expect(read).toMatchObject({ status: 200, body: { port: cluster!.replicas[0].port } });
    });

    it('a POST writes on the primary and sets the pindb cookie; with it, a GET reads the row from the primary while the replica has not replayed it; without it, from the replica', async () => {
      await cluster!.waitForReplay(); // the table, made at boot, is on the replica
      await cluster!.pauseReplay(0);
      try {
        const created = await callScratchApp(app!, 'POST', '/notes', { body: { text: `from ${file}` } });
        expect(created.status).toBe(201);
        expect(created.cookie).toMatch(/^pindb=.+/);
        expect(await cluster!.query('primary', `SELECT text FROM ${table} WHERE id = $1`, [created.body.id])).toEqual([{ text: `from ${file}` }]);

        const mine = await callScratchApp(app!, 'GET', `/notes/${created.body.id}`, { cookie: created.cookie });
        expect(mine).toMatchObject({ status: 200, body: { found: true, port: cluster!.primary.port } });
        const theirs = await callScratchApp(app!, 'GET', `/notes/${created.body.id}`);
        expect(theirs).toMatchObject({ status: 200, body: { found: false, port: cluster!.replicas[0].port } });
      } finally {
        await cluster!.resumeReplay(0);
      }
    });
  });
});
