import { INestApplicationContext } from '@nestjs/common';
import { getDataSourceToken } from '@nestjs/typeorm';
import { DataSource, EntityManager, QueryFailedError } from 'typeorm';
import { PinDbConfigError, ReplicaTransactionControlError, RoutingService } from '../../lib/index.js';
import type { PgCluster } from '../../lib/testing/index.js';
import { Note } from '../support/entities.js';
import { NotesService, readPort } from '../support/probe.js';
import { StatementLog } from '../support/statement-log.js';
import { createTestContext } from '../support/test-app.js';
import { describeWithFaults, pauseReplicas, resumeReplicas, testCluster } from '../support/test-cluster.js';

const port = async (manager: EntityManager) => Number((await manager.query('SELECT inet_server_port() AS port'))[0].port);
const show = async (manager: EntityManager, setting: string) => (await manager.query(`SHOW ${setting}`))[0][setting] as string;
const noteCount = async (manager: EntityManager) => Number((await manager.query('SELECT count(*) AS n FROM note'))[0].n);
const errorCode = (error: unknown) => (error instanceof QueryFailedError ? (error.driverError as { code?: string }).code : undefined);

/** Polls until `check` holds (a bounded number of times): waits on the condition, not on the clock. */
async function until(check: () => Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 600; i++) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`timed out waiting until ${what}`);
}

describeWithFaults('routing.replicaTransaction()', () => {
  let cluster: PgCluster;
  let context: INestApplicationContext;
  let routing: RoutingService;
  let dataSource: DataSource;
  let replicaPorts: number[];
  const log = new StatementLog();

  beforeAll(async () => {
    cluster = await testCluster({ replicas: 2 });
    replicaPorts = cluster.replicas.map((replica) => replica.port);
    context = await createTestContext({
      cluster,
      providers: [NotesService],
      pindb: { typeorm: { entities: [Note], synchronize: true, retryAttempts: 0, logger: log } },
    });
    routing = context.get(RoutingService);
    dataSource = context.get(getDataSourceToken());
    await context.get(NotesService).write('before any test');
    await cluster.waitForReplay();
  });
  afterAll(async () => {
    await context?.close();
    await cluster?.stop();
  });

  it('runs every query of fn on one replica, in one READ ONLY REPEATABLE READ transaction, counted in stats()', async () => {
    const result = await routing.run(async () => {
      const inside = await routing.replicaTransaction(async (manager) => ({
        ports: [await port(manager), await readPort(manager), await port(manager)],
        notes: await manager.getRepository(Note).count(),
        isolation: await show(manager, 'transaction_isolation'),
        readOnly: await show(manager, 'transaction_read_only'),
      }));
      return { inside, pinned: routing.isPinned(), stats: routing.stats() };
    });
    const [first] = result.inside.ports;
    expect(replicaPorts).toContain(first);
    expect(result.inside.ports).toEqual([first, first, first]);
    expect(result.inside.notes).toBeGreaterThan(0);
    expect(result.inside).toMatchObject({ isolation: 'repeatable read', readOnly: 'on' });
    expect(result.pinned).toBe(false);
    const stats = result.stats.sets.default;
    // fn's six statements, START TRANSACTION and COMMIT: all on that replica.
    expect(stats).toMatchObject({ primary: 0, replica: 8, retries: 0, fallbacks: 0 });
    expect(stats.servers).toEqual({ [`127.0.0.1:${first}`]: 8 });
  });

  it('is committed when fn resolves, rolled back when it throws, and its runner is released either way', async () => {
    log.clear();
    expect(await routing.run(() => routing.replicaTransaction(port))).toBeGreaterThan(0);
    expect(log.statements.at(-1)).toBe('COMMIT');
    log.clear();
    await expect(
      routing.run(() =>
        routing.replicaTransaction(async (manager) => {
          await port(manager);
          throw new Error('the report failed');
        }),
      ),
    ).rejects.toThrow('the report failed');
    expect(log.statements.at(-1)).toBe('ROLLBACK');
    expect(dataSource.driver).toHaveProperty('connectedQueryRunners', []);
  });

  it('sees one snapshot while the primary commits in between; a new replica transaction sees the commit', async () => {
    const seen = await routing.run(() =>
      routing.replicaTransaction(async (manager) => {
        const before = await noteCount(manager);
        const replica = replicaPorts.indexOf(await port(manager));
        await cluster.query('primary', `INSERT INTO note (text) VALUES ('committed meanwhile')`);
        const [{ lsn }] = await cluster.query<{ lsn: string }>('primary', 'SELECT pg_current_wal_lsn()::text AS lsn');
        await until(async () => {
          const [row] = await cluster.query<{ done: boolean }>(replica, 'SELECT pg_last_wal_replay_lsn() >= $1::pg_lsn AS done', [lsn]);
          return row.done;
        }, 'the replica replayed the insert');
        const [direct] = await cluster.query<{ n: string }>(replica, 'SELECT count(*) AS n FROM note');
        return { before, direct: Number(direct.n), after: await noteCount(manager), afterRepository: await manager.getRepository(Note).count() };
      }),
    );
    expect(seen.direct).toBe(seen.before + 1); // the replica has the row…
    expect(seen.after).toBe(seen.before); // …and the transaction's snapshot does not
    expect(seen.afterRepository).toBe(seen.before);
    await cluster.waitForReplay();
    expect(await routing.run(() => routing.replicaTransaction(noteCount))).toBe(seen.before + 1);
  });

  it('a write inside fails with the server’s error (25006): nothing is written on the primary, the context is not pinned, nothing is retried', async () => {
    log.clear();
    const result = await routing.run(async () => {
      const error = await routing
        .replicaTransaction(async (manager) => {
          await port(manager);
          await manager.save(Note, { text: 'written in a replica transaction' });
        })
        .catch((e: unknown) => e);
      const raw = await routing
        .replicaTransaction((manager) => manager.query(`INSERT INTO note (text) VALUES ('written in a replica transaction')`))
        .catch((e: unknown) => e);
      return { error, raw, pinned: routing.isPinned(), stats: routing.stats().sets.default };
    });
    expect(errorCode(result.error)).toBe('25006');
    expect(errorCode(result.raw)).toBe('25006');
    expect(result.pinned).toBe(false);
    expect(result.stats).toMatchObject({ primary: 0, retries: 0 });
    expect(await cluster.query('primary', `SELECT id FROM note WHERE text = 'written in a replica transaction'`)).toEqual([]);
    expect(log.statements.filter((sql) => sql.startsWith('INSERT')).length).toBe(2); // each sent once
  });

  it('fn may not end the transaction itself; manager.transaction() inside is a savepoint on the same replica', async () => {
    const nested = await routing.run(() =>
      routing.replicaTransaction(async (manager) => {
        const outer = await port(manager);
        const inner = await manager.transaction((savepoint) => port(savepoint));
        return { outer, inner, readOnly: await show(manager, 'transaction_read_only') };
      }),
    );
    expect(replicaPorts).toContain(nested.outer);
    expect(nested).toEqual({ outer: nested.outer, inner: nested.outer, readOnly: 'on' });
    for (const sql of ['COMMIT', 'ROLLBACK', 'BEGIN', 'SELECT 1; COMMIT']) {
      await expect(routing.run(() => routing.replicaTransaction((manager) => manager.query(sql)))).rejects.toThrow(ReplicaTransactionControlError);
    }
  });

  it('the isolation option is honoured; SERIALIZABLE runs on the primary (a hot standby has none), read only', async () => {
    const readCommitted = await routing.run(() =>
      routing.replicaTransaction(async (manager) => ({ port: await port(manager), isolation: await show(manager, 'transaction_isolation') }), {
        isolation: 'READ COMMITTED',
      }),
    );
    expect(replicaPorts).toContain(readCommitted.port);
    expect(readCommitted.isolation).toBe('read committed');
    const serializable = await routing.run(() =>
      routing.replicaTransaction(
        async (manager) => ({
          port: await port(manager),
          isolation: await show(manager, 'transaction_isolation'),
          readOnly: await show(manager, 'transaction_read_only'),
        }),
        { isolation: 'SERIALIZABLE' },
      ),
    );
    expect(serializable).toEqual({ port: cluster.primary.port, isolation: 'serializable', readOnly: 'on' });
  });

  it('a bad isolation or set is a clear PinDbConfigError, and fn never runs', async () => {
    let calls = 0;
    const fn = (manager: EntityManager) => {
      calls++;
      return port(manager);
    };
    for (const isolation of ['repeatable read', 'SNAPSHOT', 'REPEATABLE READ; DROP TABLE note', 42]) {
      const error = await routing.run(() => routing.replicaTransaction(fn, { isolation: isolation as 'READ COMMITTED' })).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(PinDbConfigError);
      expect((error as Error).message).toMatch(
        /^routing\.replicaTransaction\(\): isolation must be one of 'READ UNCOMMITTED', 'READ COMMITTED', 'REPEATABLE READ', 'SERIALIZABLE' \(got .+\), e\.g\. \{ isolation: 'REPEATABLE READ' \}/,
      );
    }
    await expect(routing.run(() => routing.replicaTransaction(fn, { set: 'analytics' }))).rejects.toThrow(/No database set "analytics"/);
    expect(calls).toBe(0);
  });

  it('a pinned context: on the primary, still READ ONLY (a write fails there with 25006 and writes nothing)', async () => {
    const result = await routing.run(async () => {
      routing.pin();
      const inside = await routing.replicaTransaction(async (manager) => ({
        port: await port(manager),
        readOnly: await show(manager, 'transaction_read_only'),
      }));
      const write = await routing
        .replicaTransaction((manager) => manager.query(`INSERT INTO note (text) VALUES ('pinned replica transaction')`))
        .catch((e: unknown) => e);
      // Nor can fn make it writable: its snapshot is taken when it opens.
      const readWrite = await routing.replicaTransaction((manager) => manager.query('SET TRANSACTION READ WRITE')).catch((e: unknown) => e);
      return { inside, write, readWrite, stats: routing.stats().sets.default };
    });
    expect(result.inside).toEqual({ port: cluster.primary.port, readOnly: 'on' });
    expect(errorCode(result.write)).toBe('25006');
    expect((result.readWrite as Error).message).toMatch(/transaction read-write mode must be set before any query/);
    expect(result.stats).toMatchObject({ replica: 0, retries: 0 });
    expect(await cluster.query('primary', `SELECT id FROM note WHERE text = 'pinned replica transaction'`)).toEqual([]);
  });

  it('with a token no replica has replayed: on the primary, read only', async () => {
    await pauseReplicas(cluster);
    try {
      const token = await routing.run(async () => {
        await context.get(NotesService).write('for a token');
        return routing.token();
      });
      expect(token).toBeDefined();
      const result = await routing.run(
        async () => ({
          inside: await routing.replicaTransaction(async (manager) => ({ port: await port(manager), readOnly: await show(manager, 'transaction_read_only') })),
          pinned: routing.isPinned(),
        }),
        { token },
      );
      expect(result).toEqual({ inside: { port: cluster.primary.port, readOnly: 'on' }, pinned: false });
      // Without the token the same transaction runs on a replica.
      expect(replicaPorts).toContain(await routing.run(() => routing.replicaTransaction(port)));
    } finally {
      await resumeReplicas(cluster);
    }
  });

  it('outside any context it runs on a replica', async () => {
    expect(replicaPorts).toContain(await routing.replicaTransaction(port));
  });

  // Last: they take a replica down (and start it again after).
  it.each([
    ['killed (SIGKILL)', (i: number) => cluster.killReplica(i)],
    ["stopped ('immediate')", (i: number) => cluster.stopReplica(i, 'immediate')],
  ])('a replica %s mid-transaction fails the transaction, and the statement is not sent again anywhere', async (_how, takeDown) => {
    log.clear();
    let replica = -1;
    const marker = 'replica_transaction_lost';
    const result = await routing.run(async () => {
      const error = await routing
        .replicaTransaction(async (manager) => {
          replica = replicaPorts.indexOf(await port(manager));
          const slow = manager.query(`SELECT pg_sleep(30) AS ${marker}`);
          slow.catch(() => undefined);
          await until(async () => {
            const rows = await cluster.query(replica, `SELECT pid FROM pg_stat_activity WHERE query LIKE '%AS ${marker}' AND pid <> pg_backend_pid()`);
            return rows.length > 0;
          }, 'the slow statement runs on the replica');
          await takeDown(replica);
          return slow;
        })
        .catch((e: unknown) => e);
      return { error, stats: routing.stats().sets.default };
    });
    try {
      expect(result.error).toBeInstanceOf(QueryFailedError);
      expect((result.error as Error).message).toMatch(/terminat|ECONNRESET|closed/i);
      expect(log.statements.filter((sql) => sql.includes(marker))).toHaveLength(1);
      expect(result.stats).toMatchObject({ primary: 0, retries: 0 });
      expect(Object.keys(result.stats.servers)).toEqual([`127.0.0.1:${replicaPorts[replica]}`]);
    } finally {
      await cluster.startReplica(replica);
    }
  });
});
