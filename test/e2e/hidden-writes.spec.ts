import { Controller, Get, INestApplicationContext, Param } from '@nestjs/common';
import { getDataSourceToken, InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { RoutingService, UnpinnedWriteError } from '../../lib/index.js';
import type { PgCluster } from '../../lib/testing/index.js';
import { readPort } from '../support/probe.js';
import { createTestApp, createTestContext, TestApp } from '../support/test-app.js';
import { pauseReplicas, resumeReplicas, testCluster } from '../support/test-cluster.js';

/**
 * Statements that write although they start like a read (SELECT …) or hide their write behind
 * something a naive reader skips (a second statement, a nested comment, a `--` inside a literal).
 * Sent with dataSource.query(), which always runs on the primary, each one commits there: what
 * matters is that routing knows it wrote, so the rest of the context reads its own write (pinned)
 * and the context hands out a read-your-writes token.
 *
 * Both replicas' replay is paused: a replica lacks every change made here, so a read that sees
 * the change can only have been answered by the primary (and the port says so too).
 */

/** Lag limits no test here comes near: paused replicas stay readable, so only routing sends a read to the primary. */
const PATIENT_HEALTH = { maxLagSeconds: 3600, maxLagBytes: 1024 * 1024 * 1024 };

/** A scalar expression read through TypeORM's query builder, with the port of the server that answered. */
async function observe(dataSource: DataSource, expression: string): Promise<{ value: number; port: number }> {
  const row = await dataSource.createQueryBuilder().select(expression, 'value').addSelect('inet_server_port()', 'port').fromDummy().getRawOne();
  return { value: Number(row.value), port: Number(row.port) };
}

/** A GET whose only write is a SELECT of a writing function. */
@Controller('hidden')
class HiddenWriteController {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly routing: RoutingService,
  ) {}

  @Get('write')
  async write() {
    const [{ id }] = await this.dataSource.query('SELECT my_writer() AS id');
    return { id, pinned: this.routing.isPinned(), ...(await observe(this.dataSource, `(SELECT count(*) FROM hw_item WHERE id = ${Number(id)})`)) };
  }

  /** Whether the row is there, and which server said so. */
  @Get('row/:id')
  row(@Param('id') id: string) {
    return observe(this.dataSource, `(SELECT count(*) FROM hw_item WHERE id = ${Number(id)})`);
  }
}

describe('a write that does not start like one', () => {
  let cluster: PgCluster;
  let greedy: INestApplicationContext;
  let strict: INestApplicationContext;
  let app: TestApp;
  const replicaPorts = () => cluster.replicas.map((replica) => replica.port);
  const onServer = async (server: 'primary' | number, expression: string) =>
    Number((await cluster.query<{ value: unknown }>(server, `SELECT ${expression} AS value`))[0].value);

  beforeAll(async () => {
    cluster = await testCluster({ replicas: 2 });
    await cluster.query('primary', 'CREATE TABLE hw_item (id serial PRIMARY KEY, tag text NOT NULL)');
    // A VOLATILE SQL function that inserts: SELECT my_writer() reads like a read.
    await cluster.query(
      'primary',
      `CREATE FUNCTION my_writer() RETURNS int LANGUAGE sql VOLATILE AS $$ INSERT INTO hw_item (tag) VALUES ('writer') RETURNING id $$`,
    );
    await cluster.query('primary', 'CREATE SEQUENCE hw_seq');
    await cluster.query('primary', 'SELECT nextval($1)', ['hw_seq']);
    // Rows the multi-statement and disguised DELETEs remove (the replicas keep them).
    await cluster.query('primary', `INSERT INTO hw_item (tag) VALUES ('multi'), ('multi'), ('nested'), ('dashes'), ('dashes'), ('dashes')`);
    await cluster.waitForReplay();
    const options = (mode: 'greedy' | 'strict') => ({ cluster, pindb: { mode, health: PATIENT_HEALTH } });
    greedy = await createTestContext(options('greedy'));
    strict = await createTestContext(options('strict'));
    app = await createTestApp({ platform: 'express', ...options('greedy'), controllers: [HiddenWriteController] });
    await pauseReplicas(cluster);
  });
  afterAll(async () => {
    if (cluster) await resumeReplicas(cluster).catch(() => undefined);
    await app?.close();
    await greedy?.close();
    await strict?.close();
    await cluster?.stop();
  });

  describe('greedy mode: sent with dataSource.query(), it commits on the primary, pins the set and hands out a token', () => {
    let routing: RoutingService;
    let dataSource: DataSource;
    beforeAll(() => {
      routing = greedy.get(RoutingService);
      dataSource = greedy.get(getDataSourceToken());
    });

    /**
     * `observed`: an expression over what the statement changes, `before` and `after` it on the
     * primary (`after` undefined: the value the statement itself returned); the paused replicas
     * keep showing what they showed before.
     */
    it.each<{ name: string; sql: string; observed: string; before: number; after?: number }>([
      {
        name: 'SELECT my_writer(): a VOLATILE SQL function that inserts',
        sql: 'SELECT my_writer()',
        observed: `(SELECT count(*) FROM hw_item WHERE tag = 'writer')`,
        before: 0,
        after: 1,
      },
      {
        name: "SELECT nextval('hw_seq'): a sequence advances (its last_value is then read)",
        sql: `SELECT nextval('hw_seq') AS value`,
        observed: '(SELECT last_value FROM hw_seq)',
        before: 1,
      },
      {
        name: 'SELECT … INTO a new table: it creates the table',
        sql: 'SELECT 1 AS x INTO hw_new FROM generate_series(1, 3)',
        observed: `(SELECT count(*) FROM pg_class WHERE relname = 'hw_new')`,
        before: 0,
        after: 1,
      },
      {
        name: 'SELECT 1; DELETE …: a second statement deletes',
        sql: `SELECT 1; DELETE FROM hw_item WHERE tag = 'multi'`,
        observed: `(SELECT count(*) FROM hw_item WHERE tag = 'multi')`,
        before: 2,
        after: 0,
      },
      {
        name: 'a nested comment holding "select" before a DELETE (a non-nesting stripper reads SELECT)',
        sql: `/* a /* nested */ select */ DELETE FROM hw_item WHERE tag = 'nested'`,
        observed: `(SELECT count(*) FROM hw_item WHERE tag = 'nested')`,
        before: 1,
        after: 0,
      },
      {
        name: "SELECT '--'; DELETE …: a -- inside a literal hides the DELETE from a naive stripper",
        sql: `SELECT '--'; DELETE FROM hw_item WHERE tag = 'dashes'`,
        observed: `(SELECT count(*) FROM hw_item WHERE tag = 'dashes')`,
        before: 3,
        after: 0,
      },
    ])('$name', async ({ sql, observed, before, after }) => {
      expect(await onServer('primary', observed)).toBe(before);
      // What the paused replicas show (for a sequence, the position its WAL logged ahead): they keep showing it.
      const onReplicas = [await onServer(0, observed), await onServer(1, observed)];
      const result = await routing.run(async () => {
        const portBefore = await readPort(dataSource);
        const answer = await dataSource.query(sql);
        const pinned = routing.isPinned();
        const next = await observe(dataSource, observed);
        return { portBefore, answer, pinned, next, token: await routing.token() };
      });
      const expected = after ?? Number(result.answer[0].value);
      expect(expected).not.toBe(before);

      // Before the write the context read from a (paused) replica: reads were not on the primary anyway.
      expect(replicaPorts()).toContain(result.portBefore);
      // Committed on the primary, once; the replicas, paused, do not have it.
      expect(await onServer('primary', observed)).toBe(expected);
      expect([await onServer(0, observed), await onServer(1, observed)]).toEqual(onReplicas);
      expect(onReplicas).not.toContain(expected);
      // The set is pinned: the next query-builder read is the primary's, and sees the change.
      expect(result.pinned).toBe(true);
      expect(result.next).toEqual({ value: expected, port: cluster.primary.port });
      // A token, and it works: a fresh context with it reads the change (from the primary, the replicas lacking it).
      expect(result.token).toEqual(expect.any(String));
      const later = await routing.run(() => observe(dataSource, observed), { token: result.token });
      expect(later).toEqual({ value: expected, port: cluster.primary.port });
      // Without the token a fresh context reads a replica, which lacks the change.
      const other = await routing.run(() => observe(dataSource, observed));
      expect(replicaPorts()).toContain(other.port);
      expect(other.value).toBe(onReplicas[replicaPorts().indexOf(other.port)]);
    });
  });

  // After the table above (declaration order), whose `before` counts it would change.
  it('in an HTTP GET, SELECT my_writer() pins the rest of the request, and the response hands the client a token that reads the row', async () => {
    const response = await fetch(`${app.url}/hidden/write`);
    const body = (await response.json()) as { id: number; pinned: boolean; value: number; port: number };
    expect(response.status).toBe(200);
    expect(await onServer('primary', `(SELECT count(*) FROM hw_item WHERE id = ${Number(body.id)})`)).toBe(1);
    expect(body).toMatchObject({ pinned: true, value: 1, port: cluster.primary.port });
    const token = response.headers.get('x-pindb-token');
    expect(token).toEqual(expect.any(String));
    // The client's next request, with the token, reads its row (from the primary: the replicas lack it) …
    expect(await app.get(`/hidden/row/${body.id}`, { headers: { 'x-pindb-token': token! } })).toEqual({
      status: 200,
      body: { value: 1, port: cluster.primary.port },
    });
    // … another client's, from a replica, does not see it.
    const other = await app.get(`/hidden/row/${body.id}`);
    expect(other.body.value).toBe(0);
    expect(replicaPorts()).toContain(other.body.port);
  });

  describe('strict mode: a call of a writing function on an unpinned set is refused, and writes nothing', () => {
    let routing: RoutingService;
    let dataSource: DataSource;
    const written = () => onServer('primary', `(SELECT count(*) FROM hw_item WHERE tag = 'writer')`);
    beforeAll(() => {
      routing = strict.get(RoutingService);
      dataSource = strict.get(getDataSourceToken());
    });

    it("a query-builder read of my_writer() fails with UnpinnedWriteError: the replica's refusal is not retried on the primary", async () => {
      const before = await written();
      const outcome = await routing.run(async () => {
        const portBefore = await readPort(dataSource);
        const error = await dataSource
          .createQueryBuilder()
          .select('my_writer()', 'id')
          .fromDummy()
          .getRawOne()
          .then(
            () => undefined,
            (failure: unknown) => failure,
          );
        return { portBefore, error, pinned: routing.isPinned(), stats: routing.stats() };
      });
      expect(replicaPorts()).toContain(outcome.portBefore);
      expect(outcome.error).toBeInstanceOf(UnpinnedWriteError);
      expect(outcome.pinned).toBe(false);
      expect(await written()).toBe(before);
      // Sent to a replica (which refused it), never to the primary.
      expect(outcome.stats.sets.default).toMatchObject({ replica: 2, primary: 0 });
    });

    it('dataSource.query("SELECT my_writer()") fails with UnpinnedWriteError: sent in a READ ONLY transaction, it commits nothing', async () => {
      const before = await written();
      const outcome = await routing.run(async () => {
        const error = await dataSource.query('SELECT my_writer()').then(
          () => undefined,
          (failure: unknown) => failure,
        );
        // The primary connections are not left in that transaction: plain queries after it still run, in read-write transactions.
        const after = await Promise.all(
          [1, 2, 3].map(() => dataSource.query(`SELECT current_setting('transaction_read_only') AS ro, inet_server_port() AS port`)),
        );
        return { error, after: after.map(([row]) => row), pinned: routing.isPinned() };
      });
      expect(outcome.error).toBeInstanceOf(UnpinnedWriteError);
      expect(outcome.pinned).toBe(false);
      expect(await written()).toBe(before);
      expect(outcome.after).toEqual([1, 2, 3].map(() => ({ ro: 'off', port: cluster.primary.port })));
    });

    it('inside routing.usePrimary() both run on the primary, each writes once, and the set is pinned with a token', async () => {
      const before = await written();
      const outcome = await routing.run(async () => {
        const built = await routing.usePrimary(() =>
          dataSource.createQueryBuilder().select('my_writer()', 'id').addSelect('inet_server_port()', 'port').fromDummy().getRawOne(),
        );
        const afterBuilt = await written();
        const [raw] = await routing.usePrimary(() => dataSource.query('SELECT my_writer() AS id, inet_server_port() AS port'));
        return { built, afterBuilt, raw, pinned: routing.isPinned(), next: await readPort(dataSource), token: await routing.token() };
      });
      expect(Number(outcome.built.port)).toBe(cluster.primary.port);
      expect(Number(outcome.raw.port)).toBe(cluster.primary.port);
      expect(outcome.afterBuilt).toBe(before + 1);
      expect(await written()).toBe(before + 2);
      // The ids the function returned are the rows on the primary.
      const ids = (await cluster.query<{ id: number }>('primary', `SELECT id FROM hw_item WHERE tag = 'writer' ORDER BY id DESC LIMIT 2`)).map((row) => row.id);
      expect(ids.sort()).toEqual([Number(outcome.built.id), Number(outcome.raw.id)].sort());
      // They were writes: the rest of the context reads from the primary, and it has a token.
      expect(outcome.pinned).toBe(true);
      expect(outcome.next).toBe(cluster.primary.port);
      expect(outcome.token).toEqual(expect.any(String));
    });
  });

  describe('a query-builder read of my_writer() whose token no replica has replayed: it lands on the primary, and is a write there', () => {
    /** A token for a write the paused replicas lack, so the next read of its client goes to the primary. */
    const tokenOf = (context: INestApplicationContext) =>
      context.get(RoutingService).run(async () => {
        context.get(RoutingService).pin();
        await context.get<DataSource>(getDataSourceToken()).query(`INSERT INTO hw_item (tag) VALUES ('for a token')`);
        return (await context.get(RoutingService).token())!;
      });
    const written = () => onServer('primary', `(SELECT count(*) FROM hw_item WHERE tag = 'writer')`);
    const readWriter = (context: INestApplicationContext, token: string) =>
      context.get(RoutingService).run(
        async () => {
          const routing = context.get(RoutingService);
          const outcome = await context
            .get<DataSource>(getDataSourceToken())
            .createQueryBuilder()
            .select('my_writer()', 'id')
            .addSelect('inet_server_port()', 'port')
            .fromDummy()
            .getRawOne()
            .then(
              (row) => ({ row, error: undefined }),
              (error: unknown) => ({ row: undefined, error }),
            );
          return { ...outcome, pinned: routing.isPinned(), stats: routing.stats().sets.default, token: await routing.token() };
        },
        { token },
      );

    it('strict: UnpinnedWriteError, and nothing is written', async () => {
      const token = await tokenOf(strict);
      const before = await written();
      const outcome = await readWriter(strict, token);
      expect(outcome.error).toBeInstanceOf(UnpinnedWriteError);
      expect(await written()).toBe(before);
      expect(outcome.pinned).toBe(false);
    });

    it('greedy: it writes once on the primary, pins the set, and the token moves on to its position', async () => {
      const token = await tokenOf(greedy);
      const before = await written();
      const outcome = await readWriter(greedy, token);
      expect(Number(outcome.row.port)).toBe(cluster.primary.port);
      expect(await written()).toBe(before + 1);
      expect(outcome.pinned).toBe(true);
      expect(outcome.stats).toMatchObject({ primary: 1, replica: 0, retries: 0 });
      expect(outcome.token).toEqual(expect.any(String));
      expect(outcome.token).not.toBe(token);
    });
  });
});
