import { INestApplicationContext } from '@nestjs/common';
import { getDataSourceToken } from '@nestjs/typeorm';
import pg from 'pg';
import { DataSource, EntitySubscriberInterface, EventSubscriber, QueryRunner } from 'typeorm';
import { RoutingService } from '../../lib/index.js';
import type { PgCluster } from '../../lib/testing/index.js';
import { replicaHost } from '../support/failover.js';
import { Note } from '../support/entities.js';
import { createTestContext } from '../support/test-app.js';
import { testCluster } from '../support/test-cluster.js';

/** What the subscriber below saw: the replica pool's checked-out connections once its write was done. */
const seen: { checkedOutAfterWrite?: number } = {};
let replicaConnections: () => number = () => -1;

/** TypeORM issue 11085's pattern: a beforeQuery subscriber that writes on the same runner. */
@EventSubscriber()
class WritingSubscriber implements EntitySubscriberInterface {
  async beforeQuery(event: { query: string; queryRunner: QueryRunner }): Promise<void> {
    if (!event.query.includes('audited_read')) return;
    await event.queryRunner.query("INSERT INTO note (text) VALUES ('written by a subscriber')");
    seen.checkedOutAfterWrite = replicaConnections();
  }
}

const { Client } = pg;

/** Resolves once the long read runs on the replica. */
async function runningRead(replica: pg.Client): Promise<void> {
  for (;;) {
    const { rows } = await replica.query("SELECT count(*)::int AS n FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep(60)%' AND state = 'active'");
    if (rows[0].n > 0) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/**
 * A runner owns its connection until it lets go of it and no statement of it still runs there:
 * when a write moves a read-mode runner to the primary while one of its reads is running on the
 * replica, that replica connection is not handed to anyone else until the read is done.
 */
describe('a read-mode runner moved to the primary while a statement of it runs on the replica', () => {
  let cluster: PgCluster;
  let context: INestApplicationContext;
  let routing: RoutingService;
  let dataSource: DataSource;

  beforeAll(async () => {
    // One replica: every replica read is on it.
    cluster = await testCluster({ replicas: 1 });
    context = await createTestContext({
      cluster,
      pindb: { typeorm: { entities: [Note], synchronize: true, retryAttempts: 0, subscribers: [WritingSubscriber] } },
    });
    routing = context.get(RoutingService);
    dataSource = context.get(getDataSourceToken());
    await cluster.waitForReplay();
    const pool = replicaHost(context, 0).connectionPool!;
    replicaConnections = () => pool.totalCount - pool.idleCount;
  });
  afterAll(async () => {
    await context?.close();
    await cluster?.stop();
  });

  it('two queries in flight, the second a write: the write goes to the primary, and the replica connection stays checked out until the read ends', async () => {
    // A long read on the replica, ended by the test (cancelled) once it has seen what it checks.
    const replica = new Client({ connectionString: cluster.replicas[0].url });
    await replica.connect();
    const runner = dataSource.createQueryRunner('slave');
    try {
      await routing.run(async () => {
        const read = runner.query('SELECT pg_sleep(60), inet_server_port() AS port').then(
          () => 'finished',
          (error: Error) => error.message,
        );
        const [written] = await runner.query("INSERT INTO note (text) VALUES ('while a read runs') RETURNING inet_server_port() AS port");
        expect(written.port).toBe(cluster.primary.port);
        expect(runner.getReplicationMode()).toBe('master');
        await runningRead(replica);
        // The read still runs on its replica connection: not back in the pool for another runner.
        expect(replicaConnections()).toBe(1);
        await replica.query("SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep(60)%'");
        expect(await read).toMatch(/canceling statement/);
      });
    } finally {
      await runner.release();
      await replica.end();
    }
    expect(replicaConnections()).toBe(0);
  });

  it('a beforeQuery subscriber that writes on the runner: the replica connection of the read it precedes stays checked out through the write', async () => {
    const runner = dataSource.createQueryRunner('slave');
    try {
      const [row] = await routing.run(() => runner.query("SELECT 'audited_read' AS what, inet_server_port() AS port"));
      expect(row).toEqual({ what: 'audited_read', port: cluster.replicas[0].port });
    } finally {
      await runner.release();
    }
    expect(seen.checkedOutAfterWrite).toBe(1);
    expect(replicaConnections()).toBe(0);
    expect((await cluster.query<{ n: string }>('primary', "SELECT count(*) AS n FROM note WHERE text = 'written by a subscriber'"))[0].n).toBe('1');
  });

  it('a write sent while the runner is still connecting goes to the primary, and so does everything after it', async () => {
    const runner = dataSource.createQueryRunner('slave');
    try {
      await routing.run(async () => {
        const first = runner.query('SELECT inet_server_port() AS port'); // connecting to the replica
        const [written] = await runner.query("INSERT INTO note (text) VALUES ('while connecting') RETURNING inet_server_port() AS port");
        await first;
        const [next] = await runner.query('SELECT inet_server_port() AS port');
        expect(written.port).toBe(cluster.primary.port);
        expect(next.port).toBe(cluster.primary.port);
        expect(runner.getReplicationMode()).toBe('master');
        expect(routing.stats().sets.default.retries).toBe(0);
      });
    } finally {
      await runner.release();
    }
    expect((await cluster.query<{ n: string }>('primary', "SELECT count(*) AS n FROM note WHERE text = 'while connecting'"))[0].n).toBe('1');
  });
});
