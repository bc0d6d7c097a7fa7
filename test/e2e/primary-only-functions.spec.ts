import { INestApplicationContext } from '@nestjs/common';
import { getDataSourceToken } from '@nestjs/typeorm';
import { DataSource, QueryRunner } from 'typeorm';
import { RoutingService } from '../../lib/index.js';
import type { PgCluster } from '../../lib/testing/index.js';
import { readPort } from '../support/probe.js';
import { createTestContext } from '../support/test-app.js';
import { testCluster } from '../support/test-cluster.js';

/**
 * Reads, as TypeORM's query builder builds them, of functions only the primary can run for real:
 * an advisory lock (on a replica it would exclude nobody on the primary), the primary's WAL
 * position, a transaction id. Each is sent to the primary straight away (not first to a replica,
 * which would fail it, or, for txid_current(), refuse it as read-only and have it retried), and,
 * being a write as far as routing is concerned, pins the set.
 */

const LOCK_KEY = 4242;
const ADVISORY_LOCKS = `SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND objid = ${LOCK_KEY}`;

interface Row {
  name: string;
  /** The function call, selected as `value`. */
  call: string;
  /** What the answer must be, checked against the cluster. */
  check(value: unknown, row: { pid: number }, cluster: PgCluster): Promise<void>;
  /** Run on the same runner after the checks: undoes what the call left on its session. */
  cleanup?(runner: QueryRunner, cluster: PgCluster): Promise<void>;
}

const ROWS: Row[] = [
  {
    name: `pg_try_advisory_lock(${LOCK_KEY}): the lock is the primary's, held by the session that answered`,
    call: `pg_try_advisory_lock(${LOCK_KEY})`,
    async check(value, { pid }, cluster) {
      expect(value).toBe(true);
      expect(await cluster.query('primary', ADVISORY_LOCKS)).toEqual([{ pid }]);
      for (const i of cluster.replicas.keys()) expect(await cluster.query(i, ADVISORY_LOCKS)).toEqual([]);
    },
    async cleanup(runner, cluster) {
      expect((await runner.query(`SELECT pg_advisory_unlock(${LOCK_KEY}) AS unlocked`))[0].unlocked).toBe(true);
      expect(await cluster.query('primary', ADVISORY_LOCKS)).toEqual([]);
    },
  },
  {
    name: 'pg_current_wal_lsn(): the primary position (a replica fails: "recovery is in progress")',
    call: 'pg_current_wal_lsn()::text',
    async check(value, _row, cluster) {
      expect(value).toMatch(/^[0-9A-F]+\/[0-9A-F]+$/);
      const [{ reached }] = await cluster.query<{ reached: boolean }>('primary', 'SELECT $1::pg_lsn <= pg_current_wal_lsn() AS reached', [value]);
      expect(reached).toBe(true);
    },
  },
  {
    name: 'txid_current(): a transaction id the primary assigned, and committed',
    call: 'txid_current()::text',
    async check(value, _row, cluster) {
      expect(value).toMatch(/^[1-9]\d*$/);
      expect(await cluster.query('primary', 'SELECT txid_status($1::bigint) AS status', [value])).toEqual([{ status: 'committed' }]);
    },
  },
];

describe('query-builder reads of primary-only functions', () => {
  let cluster: PgCluster;
  let context: INestApplicationContext;
  let routing: RoutingService;
  let dataSource: DataSource;
  const replicaPorts = () => cluster.replicas.map((replica) => replica.port);

  beforeAll(async () => {
    cluster = await testCluster({ replicas: 2 });
    context = await createTestContext({ cluster });
    routing = context.get(RoutingService);
    dataSource = context.get(getDataSourceToken());
  });
  afterAll(async () => {
    await context?.close();
    await cluster?.stop();
  });

  // A read-mode runner, as a query builder takes for a read, but named: the advisory lock is released on the session that holds it.
  it.each(ROWS)('$name: it is sent to the primary, not first to a replica, and pins the set', async ({ call, check, cleanup }) => {
    const runner = dataSource.createQueryRunner('slave');
    try {
      await routing.run(async () => {
        expect(replicaPorts()).toContain(await readPort(dataSource));
        const row = await dataSource
          .createQueryBuilder(runner)
          .select(call, 'value')
          .addSelect('inet_server_port()', 'port')
          .addSelect('pg_backend_pid()', 'pid')
          .fromDummy()
          .getRawOne();
        expect(Number(row.port)).toBe(cluster.primary.port);
        // Sent to the primary in the first place: no replica saw it (and refused it), none was retried.
        expect(routing.stats().sets.default).toMatchObject({ replica: 1, retries: 0 });
        await check(row.value, { pid: Number(row.pid) }, cluster);
        // Pinned: a later query-builder read, on a runner of its own, is the primary's.
        expect(routing.isPinned()).toBe(true);
        expect(await readPort(dataSource)).toBe(cluster.primary.port);
        await cleanup?.(runner, cluster);
      });
    } finally {
      await runner.release();
    }
  });

  it.each(ROWS.filter((row) => !row.cleanup))('$name: the same through a query builder with a runner of its own', async ({ call, check }) => {
    await routing.run(async () => {
      expect(replicaPorts()).toContain(await readPort(dataSource));
      const row = await dataSource
        .createQueryBuilder()
        .select(call, 'value')
        .addSelect('inet_server_port()', 'port')
        .addSelect('pg_backend_pid()', 'pid')
        .fromDummy()
        .getRawOne();
      expect(Number(row.port)).toBe(cluster.primary.port);
      expect(routing.stats().sets.default).toMatchObject({ replica: 1, retries: 0 });
      await check(row.value, { pid: Number(row.pid) }, cluster);
      expect(routing.isPinned()).toBe(true);
      expect(await readPort(dataSource)).toBe(cluster.primary.port);
    });
  });
});
