import type { PgCluster } from '../../lib/testing/index.js';
import { ClsServer, startClsServer } from '../support/cls-child.js';
import { PLATFORMS } from '../support/test-app.js';
import { pauseReplicas, resumeReplicas, testCluster } from '../support/test-cluster.js';
import { cookieFrom } from '../support/token-cookies.js';

const SECRET = 'a test secret that is long enough';
/** The app's process compiles its TypeScript first (ts-node): slower than a test on a loaded machine. */
const APP_START_TIMEOUT_MS = 180_000;

let cluster: PgCluster;
let replicaPorts: number[];
beforeAll(async () => {
  cluster = await testCluster({ replicas: 2 });
  replicaPorts = cluster.replicas.map((replica) => replica.port);
});
afterAll(() => cluster?.stop());

describe.each(PLATFORMS)('@nestjs-cls/transactional in strict mode (%s)', (platform) => {
  let app: ClsServer;
  let n = 0;
  const text = (name: string) => `${platform}-strict-${name}-${++n}`;
  const count = async (value: string) =>
    Number((await cluster.query<{ n: string }>('primary', 'SELECT count(*) AS n FROM note WHERE text = $1', [value]))[0].n);
  const call = async (path: string, headers: Record<string, string> = {}, method = 'GET') => {
    const response = await fetch(app.url + path, { method, headers });
    return { status: response.status, body: (await response.json()) as any, cookie: cookieFrom(response) };
  };

  beforeAll(async () => {
    app = await startClsServer(cluster, { platform, clsFirst: false, mode: 'strict', secret: SECRET });
    await cluster.waitForReplay(); // the schema, made at startup
  }, APP_START_TIMEOUT_MS);
  afterAll(() => app?.close());

  it('refuses a @Transactional write in a GET without @Pin with UnpinnedWriteError, before any SQL is sent', async () => {
    const value = text('unpinned');
    await app.op('clearStatements');
    const { status, body } = await call(`/cls/create?text=${value}`);
    expect(status).toBe(409);
    expect(body.error).toBe('UnpinnedWriteError');
    // Not even START TRANSACTION, nor the ROLLBACK TypeORM sends after the error.
    expect(await app.op('statements')).toEqual([]);
    expect(await count(value)).toBe(0);
  });

  it('refuses a @Transactional method that only reads, too: its START TRANSACTION is a write', async () => {
    const { status, body } = await call('/cls/read-in-transaction');
    expect(status).toBe(409);
    expect(body.error).toBe('UnpinnedWriteError');
  });

  it('with @Pin() on the handler: the transaction runs on the primary and commits once, and the cookie sends the next request to it while replicas lag', async () => {
    await pauseReplicas(cluster);
    try {
      const value = text('pinned');
      await app.op('clearStatements');
      const created = await call(`/strict/create?text=${value}`);
      expect(created.status).toBe(200);
      // The statement log that saw nothing of the refused transaction above sees this one.
      expect(await app.op('statements')).toEqual(expect.arrayContaining(['START TRANSACTION', 'COMMIT']));
      expect(created.body.tx).toMatchObject({ before: { port: cluster.primary.port, transaction: true }, seen: 1 });
      expect(created.body).toMatchObject({ after: { port: cluster.primary.port, transaction: false }, pinned: true });
      expect(await count(value)).toBe(1);
      expect(created.cookie).toMatch(/^pindb=.+/);
      const mine = await call(`/cls/count?text=${value}`, { cookie: created.cookie! });
      expect(mine.body).toMatchObject({ count: 1, where: { port: cluster.primary.port } });
    } finally {
      await resumeReplicas(cluster);
    }
  });

  it('with routing.usePrimary() around the call: allowed, on the primary, and the write pins the rest of the request', async () => {
    const value = text('use-primary');
    const { status, body } = await call(`/strict/use-primary-create?text=${value}`);
    expect(status).toBe(200);
    expect(body).toMatchObject({ tx: { before: { port: cluster.primary.port, transaction: true } }, after: { port: cluster.primary.port }, pinned: true });
    expect(await count(value)).toBe(1);
  });

  it('in a POST, which its method pins: allowed without @Pin', async () => {
    const value = text('post');
    const response = await fetch(`${app.url}/cls/create?text=${value}`, { method: 'POST' });
    expect(response.status).toBe(201);
    const body = (await response.json()) as any;
    expect(body.tx.before).toMatchObject({ port: cluster.primary.port, transaction: true });
    expect(await count(value)).toBe(1);
  });

  it("under @Pin, RequiresNew's separate transaction is allowed too, on the primary, and survives the outer rollback", async () => {
    const value = text('requires-new');
    const { status, body } = await call(`/strict/outer?mode=requires-new&text=${value}&failOuter=1`);
    expect(status).toBe(409);
    expect(body.inner.where).toMatchObject({ port: cluster.primary.port, transaction: true });
    expect(body.inner.where.pid).not.toBe(body.outer.pid);
    expect({ outer: await count(`${value}:outer`), inner: await count(`${value}:inner`) }).toEqual({ outer: 0, inner: 1 });
  });

  it('a GET that reads without a transaction still reads a replica', async () => {
    const { status, body } = await call('/cls/read');
    expect(status).toBe(200);
    expect(replicaPorts).toContain(body.where.port);
    expect(body.pinned).toBe(false);
  });

  describe('outside HTTP', () => {
    it('inside routing.run(), unpinned: UnpinnedWriteError, nothing written', async () => {
      const value = text('routing-run');
      await expect(app.op('routingRun', value)).rejects.toMatchObject({ name: 'UnpinnedWriteError' });
      expect(await count(value)).toBe(0);
    });

    it('inside routing.run() after routing.pin(), or inside usePrimary(): on the primary, committed', async () => {
      const pinned = text('routing-run-pinned');
      expect(await app.op('routingRunPinned', pinned)).toMatchObject({ tx: { before: { port: cluster.primary.port, transaction: true } }, pinned: true });
      const usePrimary = text('routing-run-use-primary');
      expect(await app.op('routingRunUsePrimary', usePrimary)).toMatchObject({ before: { port: cluster.primary.port, transaction: true } });
      expect([await count(pinned), await count(usePrimary)]).toEqual([1, 1]);
    });

    it('inside ClsService.run() with no pinning context: strict mode has nothing to enforce, and the transaction runs on the primary', async () => {
      const value = text('cls-run');
      expect(await app.op('clsRun', value)).toMatchObject({ tx: { before: { port: cluster.primary.port, transaction: true } }, pinned: false });
      expect(await count(value)).toBe(1);
    });
  });
});
