import { connectionOptions, queryServer, type PgCluster } from '../../lib/testing/index.js';
import { ClsServer, startClsServer } from '../support/cls-child.js';
import type { Mode } from '../support/cls-notes.service.js';
import type { Platform } from '../support/test-app.js';
import { PLATFORMS } from '../support/test-app.js';
import { pauseReplicas, resumeReplicas, testCluster } from '../support/test-cluster.js';
import { cookieFrom } from '../support/token-cookies.js';

const SECRET = 'a test secret that is long enough';
/** The app's process compiles its TypeScript first (ts-node): slower than a test on a loaded machine. */
const APP_START_TIMEOUT_MS = 180_000;
const ANALYTICS_DATABASE = 'cls_analytics';

/** Both platforms, with ClsModule imported after PinDbModule and before it (each one's middleware runs first). */
const APPS: [Platform, 'after' | 'before'][] = PLATFORMS.flatMap((platform) => [
  [platform, 'after'],
  [platform, 'before'],
]);

let cluster: PgCluster;
let replicaPorts: number[];
beforeAll(async () => {
  cluster = await testCluster({ replicas: 2 });
  replicaPorts = cluster.replicas.map((replica) => replica.port);
  // The `analytics` set: a second database on the same servers.
  await cluster.query('primary', `CREATE DATABASE ${ANALYTICS_DATABASE}`);
  await cluster.waitForReplay();
});
afterAll(() => cluster?.stop());
const analyticsPrimary = () => connectionOptions(cluster.primary.host, cluster.primary.port, cluster.primary.username, ANALYTICS_DATABASE);

describe.each(APPS)('@nestjs-cls/transactional with the TypeORM adapter (%s, ClsModule imported %s PinDbModule)', (platform, order) => {
  let app: ClsServer;
  const tag = `${platform}-${order}`;
  let n = 0;
  /** A note text unique to this test. */
  const text = (name: string) => `${tag}-${name}-${++n}`;
  const count = async (value: string) =>
    Number((await cluster.query<{ n: string }>('primary', 'SELECT count(*) AS n FROM note WHERE text = $1', [value]))[0].n);
  const call = async (path: string, headers: Record<string, string> = {}, method = 'GET') => {
    const response = await fetch(app.url + path, { method, headers });
    return { status: response.status, body: (await response.json()) as any, cookie: cookieFrom(response) };
  };
  const withReplicasPaused = async (fn: () => Promise<void>) => {
    await pauseReplicas(cluster);
    try {
      await fn();
    } finally {
      await resumeReplicas(cluster);
    }
  };

  beforeAll(async () => {
    app = await startClsServer(cluster, { platform, clsFirst: order === 'before', mode: 'greedy', secret: SECRET, analyticsDatabase: ANALYTICS_DATABASE });
    await cluster.waitForReplay(); // the schema, made at startup
  }, APP_START_TIMEOUT_MS);
  afterAll(() => app?.close());

  it('runs the reads and the write of a @Transactional method on the primary, in one transaction, and commits the write once', async () => {
    const value = text('one-transaction');
    const { status, body } = await call(`/cls/create?text=${value}`);
    expect(status).toBe(200);
    const { before, after, seen } = body.tx;
    expect(before).toMatchObject({ port: cluster.primary.port, transaction: true });
    expect(after).toMatchObject({ port: cluster.primary.port, transaction: true, pid: before.pid });
    expect(seen).toBe(1);
    expect(await count(value)).toBe(1);
  });

  it('pins the set after the transaction: the request reads its write on the primary, and its cookie sends the next request there while replicas lag', async () => {
    await withReplicasPaused(async () => {
      const value = text('pinned-after');
      const created = await call(`/cls/create?text=${value}`);
      expect(created.body).toMatchObject({ after: { port: cluster.primary.port, transaction: false }, afterCount: 1, pinned: true });
      expect(created.cookie).toMatch(/^pindb=.+/);

      const mine = await call(`/cls/count?text=${value}`, { cookie: created.cookie! });
      expect(mine.body).toMatchObject({ count: 1, where: { port: cluster.primary.port } });

      // Another client has no token: it reads a replica, which has not replayed the write.
      const theirs = await call(`/cls/count?text=${value}`);
      expect(theirs.body).toMatchObject({ count: 0, pinned: false });
      expect(replicaPorts).toContain(theirs.body.where.port);
    });
  });

  it('a request that does not write reads on a replica, outside any transaction', async () => {
    const { body } = await call('/cls/read');
    expect(replicaPorts).toContain(body.where.port);
    expect(body.where.transaction).toBe(false);
    expect(body.pinned).toBe(false);
    expect(body.stats.sets.default).toMatchObject({ primary: 0, replica: 1 });
  });

  it('a @Transactional method that only reads runs on the primary too, and pins the set (a transaction starts with a write)', async () => {
    const { body } = await call('/cls/read-in-transaction');
    expect(body.tx).toMatchObject({ port: cluster.primary.port, transaction: true });
    expect(body).toMatchObject({ after: { port: cluster.primary.port, transaction: false }, pinned: true });
  });

  it('passes the isolation level of @Transactional({ isolationLevel }) to the primary', async () => {
    const { body } = await call('/cls/serializable');
    expect(body).toMatchObject({ isolation: 'serializable', where: { port: cluster.primary.port, transaction: true } });
  });

  it("rolls back on the app's exception, which reaches the client as the app's error", async () => {
    const value = text('rolled-back');
    const { status, body } = await call(`/cls/fail?text=${value}`);
    expect(status).toBe(409);
    expect(body).toMatchObject({ statusCode: 409, message: `${value}: refused by the app` });
    expect(await count(value)).toBe(0);
  });

  it("a named plugin (connectionName: 'analytics') runs @Transactional('analytics') on that set's primary, and pins that set only", async () => {
    const path = `/${text('visit')}`;
    const { status, body } = await call(`/cls/analytics/visit?path=${path}`);
    expect(status).toBe(200);
    expect(body.tx).toEqual({ port: cluster.primary.port, database: ANALYTICS_DATABASE, transaction: true, defaultTransaction: false });
    expect(body.pinned).toEqual({ default: false, analytics: true });
    expect(replicaPorts).toContain(body.defaultRead.port);
    const [{ n }] = await queryServer<{ n: string }>(analyticsPrimary(), 'SELECT count(*) AS n FROM visit WHERE path = $1', [path]);
    expect(Number(n)).toBe(1);
  });

  describe('propagation inside an outer @Transactional', () => {
    const outer = async (mode: Mode, flags: { failInner?: boolean; failOuter?: boolean }) => {
      const value = text(`outer-${mode}`);
      const { status, body } = await call(
        `/cls/outer?mode=${mode}&text=${value}${flags.failInner ? '&failInner=1' : ''}${flags.failOuter ? '&failOuter=1' : ''}`,
      );
      // A failed outer transaction answers with the app's 409, whose body carries what both saw.
      expect(status).toBe(flags.failOuter ? 409 : 200);
      expect(body.outer).toMatchObject({ port: cluster.primary.port, transaction: true });
      expect(body.outerAfter).toMatchObject({ port: cluster.primary.port, transaction: true, pid: body.outer.pid });
      return { ...body, rows: { outer: await count(`${value}:outer`), inner: await count(`${value}:inner`) } };
    };

    it('Required joins the outer transaction: same backend, and the outer rollback undoes the inner write', async () => {
      const result = await outer('required', { failOuter: true });
      expect(result.inner.where).toMatchObject({ port: cluster.primary.port, transaction: true, pid: result.outer.pid });
      expect(result.rows).toEqual({ outer: 0, inner: 0 });
      const committed = await outer('required', {});
      expect(committed.rows).toEqual({ outer: 1, inner: 1 });
    });

    it('RequiresNew runs a separate transaction on the primary: another backend, and its commit survives the outer rollback', async () => {
      const result = await outer('requires-new', { failOuter: true });
      expect(result.inner.where).toMatchObject({ port: cluster.primary.port, transaction: true });
      expect(result.inner.where.pid).not.toBe(result.outer.pid);
      expect(result.rows).toEqual({ outer: 0, inner: 1 });
      // Its own rollback leaves the outer transaction going.
      const failed = await outer('requires-new', { failInner: true });
      expect(failed.inner.error).toBe('InnerFailure');
      expect(failed.rows).toEqual({ outer: 1, inner: 0 });
    });

    it('Nested runs in a savepoint of the outer transaction: same backend; its rollback keeps the outer, the outer rollback undoes it', async () => {
      const failed = await outer('nested', { failInner: true });
      expect(failed.inner.error).toBe('InnerFailure');
      expect(failed.rows).toEqual({ outer: 1, inner: 0 });
      const committed = await outer('nested', { failOuter: true });
      expect(committed.inner.where).toMatchObject({ port: cluster.primary.port, transaction: true, pid: committed.outer.pid });
      expect(committed.rows).toEqual({ outer: 0, inner: 0 });
    });

    it('NotSupported runs outside the transaction, on the primary (the set is pinned): its write commits on its own', async () => {
      const result = await outer('not-supported', { failOuter: true });
      expect(result.inner.where).toMatchObject({ port: cluster.primary.port, transaction: false });
      expect(result.inner.where.pid).not.toBe(result.outer.pid);
      expect(result.rows).toEqual({ outer: 0, inner: 1 });
    });

    it('Never refuses to run inside a transaction (TransactionAlreadyActiveError) and writes nothing', async () => {
      const result = await outer('never', {});
      expect(result.inner.error).toBe('TransactionAlreadyActiveError');
      expect(result.rows).toEqual({ outer: 1, inner: 0 });
    });

    it.each<Mode>(['mandatory', 'supports'])('%s joins the outer transaction', async (mode) => {
      const result = await outer(mode, { failOuter: true });
      expect(result.inner.where).toMatchObject({ port: cluster.primary.port, transaction: true, pid: result.outer.pid });
      expect(result.rows).toEqual({ outer: 0, inner: 0 });
    });
  });

  describe('propagation with no transaction around it, in a GET', () => {
    const alone = async (mode: Mode) => {
      const value = text(`alone-${mode}`);
      const { status, body } = await call(`/cls/alone?mode=${mode}&text=${value}`);
      return { status, body, rows: await count(`${value}:inner`) };
    };

    it.each<Mode>(['required', 'requires-new', 'nested'])('%s starts a transaction on the primary, and its write pins the set', async (mode) => {
      const { status, body, rows } = await alone(mode);
      expect(status).toBe(200);
      expect(body.inner).toMatchObject({ port: cluster.primary.port, transaction: true });
      expect(body).toMatchObject({ after: { port: cluster.primary.port }, pinned: true });
      expect(rows).toBe(1);
    });

    it.each<Mode>(['not-supported', 'never', 'supports'])(
      '%s runs without a transaction: its read goes to a replica until its write pins the set',
      async (mode) => {
        const { status, body, rows } = await alone(mode);
        expect(status).toBe(200);
        expect(body.inner.transaction).toBe(false);
        expect(replicaPorts).toContain(body.inner.port);
        expect(body).toMatchObject({ after: { port: cluster.primary.port }, pinned: true });
        expect(rows).toBe(1);
      },
    );

    it('Mandatory refuses to run (TransactionNotActiveError, as the app maps it) and writes nothing', async () => {
      const { status, body, rows } = await alone('mandatory');
      expect(status).toBe(409);
      expect(body.error).toBe('TransactionNotActiveError');
      expect(rows).toBe(0);
    });
  });

  describe("PinDb's context and nestjs-cls's side by side", () => {
    it("the handler and the transaction see the request's nestjs-cls values; RoutingService sees the pin and the counts", async () => {
      const requestId = `${tag}-request`;
      const { body } = await call(`/cls/create?text=${text('contexts')}`, { 'x-request-id': requestId });
      expect(body).toMatchObject({ clsId: requestId, requestId, pinned: true });
      expect(body.tx.before.requestId).toBe(requestId);
      expect(body.after.requestId).toBe(requestId);
      // START TRANSACTION, two reads, the INSERT, the count, COMMIT; then the count and a read after it.
      expect(body.stats.sets.default).toMatchObject({ primary: 8, replica: 0 });
    });

    it('a request held inside its transaction keeps its own contexts; a request meanwhile reads a replica with its own', async () => {
      const gate = `${tag}-gate`;
      const value = text('held');
      const writing = call(`/cls/create?text=${value}&gate=${gate}`, { 'x-request-id': `${tag}-writer` });
      while (!(await app.op('gateWaiting', gate))) await new Promise((resolve) => setTimeout(resolve, 20));
      const reading = await call('/cls/read', { 'x-request-id': `${tag}-reader` });
      expect(reading.body).toMatchObject({ clsId: `${tag}-reader`, requestId: `${tag}-reader`, pinned: false, where: { transaction: false } });
      expect(replicaPorts).toContain(reading.body.where.port);
      await app.op('openGate', gate);
      const written = await writing;
      expect(written.body).toMatchObject({
        clsId: `${tag}-writer`,
        requestId: `${tag}-writer`,
        pinned: true,
        tx: { seen: 1 },
        after: { port: cluster.primary.port },
      });
      expect(await count(value)).toBe(1);
    });
  });

  describe('outside HTTP', () => {
    it('inside routing.run(): the transaction runs on the primary and pins the context, which then has a token', async () => {
      const value = text('routing-run');
      const result = await app.op('routingRun', value);
      expect(result.tx.before).toMatchObject({ port: cluster.primary.port, transaction: true });
      expect(result).toMatchObject({ pinned: true, after: { port: cluster.primary.port, transaction: false } });
      expect(result.token).toEqual(expect.any(String));
      expect(await count(value)).toBe(1);
    });

    it('inside ClsService.run(), with no pinning context: the transaction runs on the primary and sees the cls values', async () => {
      const value = text('cls-run');
      const result = await app.op('clsRun', value);
      expect(result.tx.before).toMatchObject({ port: cluster.primary.port, transaction: true, requestId: 'a job' });
      expect(result.pinned).toBe(false); // no pinning context: nothing to pin
      expect(await count(value)).toBe(1);
    });

    it('with neither context: nestjs-cls opens its own, and the transaction runs on the primary', async () => {
      const value = text('no-context');
      const { before } = await app.op('noContext', value);
      expect(before).toMatchObject({ port: cluster.primary.port, transaction: true });
      expect(await count(value)).toBe(1);
    });

    it('@PinningContext() over @Transactional() on a job method: the transaction runs on the primary, in the pinned context', async () => {
      const value = text('job');
      const result = await app.op('job', value);
      expect(result).toEqual({ inside: expect.objectContaining({ port: cluster.primary.port, transaction: true }), pinnedInside: true });
      expect(await count(value)).toBe(1);
    });
  });
});
