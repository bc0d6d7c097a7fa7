import type { INestApplicationContext } from '@nestjs/common';
import { getDataSourceToken } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import type { PinDbModuleOptions, ReplicaServerOptions } from '../../lib/index.js';
import { PinDbRouter } from '../../lib/routing/pin-db.router.js';
import type { PgCluster, PgConnectionOptions } from '../../lib/testing/index.js';
import { Note } from '../support/entities.js';
import { FAST_HEALTH } from '../support/failover.js';
import { readPort } from '../support/probe.js';
import { createTestContext } from '../support/test-app.js';
import { describeWithFaults, testCluster } from '../support/test-cluster.js';

/** The app's connections carry this name, so that a replica's pg_stat_activity tells them from the test's own and the health checks'. */
const APP_NAME = 'pindb-discovery-spec';
const HEALTH_NAME = 'nestjs-pindb health';

async function until(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`not within ${timeoutMs} ms: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function options(cluster: PgCluster, discover: NonNullable<PinDbModuleOptions['sets'][string]['discover']>): Partial<PinDbModuleOptions> {
  return {
    sets: { default: { primary: { ...cluster.primary, applicationName: APP_NAME }, discover } },
    // Idle connections stay open (no idle timeout), so that only the pool's end closes them.
    typeorm: { entities: [Note], synchronize: true, retryAttempts: 0, extra: { idleTimeoutMillis: 0 } },
    health: FAST_HEALTH,
  };
}

const labelOf = (server: PgConnectionOptions) => `${server.host}:${server.port}`;

describeWithFaults('replica discovery (sets.<name>.discover)', () => {
  let cluster: PgCluster;
  beforeAll(async () => {
    cluster = await testCluster({ replicas: 1 });
  });
  afterAll(() => cluster?.stop());

  describe('by a function whose list the test changes', () => {
    let context: INestApplicationContext;
    let dataSource: DataSource;
    let listed: ReplicaServerOptions[];
    let failure: 'throws' | 'garbage' | undefined;
    let calls = 0;
    const discover = async (): Promise<ReplicaServerOptions[]> => {
      calls++;
      if (failure === 'throws') throw new Error('the inventory service is down');
      if (failure === 'garbage') return 'no list' as unknown as ReplicaServerOptions[];
      return listed;
    };
    const labels = () =>
      context
        .get(PinDbRouter)
        .forSet('default')
        .hosts.hosts.map((host) => host.label);
    const ports = async (reads: number) => Promise.all(Array.from({ length: reads }, () => readPort(dataSource)));
    const appConnections = async (replica: number, name = APP_NAME) => {
      const [{ count }] = await cluster.query<{ count: number }>(replica, 'SELECT count(*)::int AS count FROM pg_stat_activity WHERE application_name = $1', [
        name,
      ]);
      return count;
    };

    const sleeping = async (replica: number) => {
      const [{ count }] = await cluster.query<{ count: number }>(
        replica,
        "SELECT count(*)::int AS count FROM pg_stat_activity WHERE application_name = $1 AND query LIKE '%pg_sleep(5)%'",
        [APP_NAME],
      );
      return count;
    };

    beforeAll(async () => {
      listed = [{ host: cluster.replicas[0].host, port: cluster.replicas[0].port }];
      context = await createTestContext({ cluster, pindb: options(cluster, discover) });
      dataSource = context.get<DataSource>(getDataSourceToken());
    });
    afterAll(() => context?.close());

    it('discovers the listed replica at bootstrap: it serves the reads once initialised', async () => {
      expect(labels()).toEqual([labelOf(cluster.replicas[0])]);
      expect(new Set(await ports(10))).toEqual(new Set([cluster.replicas[0].port]));
    });

    it('a replica added by cluster.addReplica() and then listed serves reads within a few intervals', async () => {
      const added = await cluster.addReplica();
      const port = cluster.replicas[added].port;
      listed = [...listed, { host: cluster.replicas[added].host, port }];
      const before = calls;
      // Two intervals of 400 ms: a discovery and a health check. The bound is generous for a loaded machine.
      await until(async () => (await ports(4)).includes(port), `a read on the added replica ${port}`);
      expect(calls).toBeGreaterThan(before);
      expect(labels()).toEqual([labelOf(cluster.replicas[0]), labelOf(cluster.replicas[added])]);
      // Both share the reads now.
      await until(async () => new Set(await ports(10)).size === 2, 'reads on both replicas');
    }, 120_000);

    it('a discovery that throws, or returns something other than a list, keeps the last list', async () => {
      const kept = labels();
      for (const kind of ['throws', 'garbage'] as const) {
        failure = kind;
        const before = calls;
        await until(() => calls >= before + 2, `two discoveries that fail (${kind})`);
        expect(labels()).toEqual(kept);
        expect(new Set(await ports(10))).toEqual(new Set(cluster.replicas.map((replica) => replica.port)));
      }
      failure = undefined;
    });

    it('a replica dropped from the list gets no read once a discovery has run, and its pool and health checks close', async () => {
      const dropped = cluster.replicas.length - 1;
      const port = cluster.replicas[dropped].port;
      // Its reads left connections open in its pool (no idle timeout), and the monitor checks it.
      expect(await appConnections(dropped)).toBeGreaterThan(0);
      expect(await appConnections(dropped, HEALTH_NAME)).toBeGreaterThan(0);
      // Two slow reads at once: round robin sends one to each replica.
      let slowDone = false;
      const slow = Promise.all(
        [0, 1].map(() => dataSource.createQueryBuilder().select('inet_server_port()', 'port').addSelect('pg_sleep(5)::text', 'slept').fromDummy().getRawOne()),
      ).finally(() => (slowDone = true));
      await until(async () => (await appConnections(dropped)) > 0 && (await sleeping(dropped)) > 0, 'a slow read running on the replica to drop');
      listed = listed.filter((server) => server.port !== port);
      await until(() => !labels().includes(labelOf(cluster.replicas[dropped])), 'the router no longer lists the dropped replica');
      // Dropped while its read is in flight: the read goes on, and holds its connection open until it ends.
      expect(slowDone).toBe(false);
      expect(await sleeping(dropped)).toBe(1);
      expect((await slow).map((row) => Number(row.port)).sort()).toEqual([cluster.replicas[0].port, port].sort());
      const after = await ports(40);
      expect(after.filter((served) => served === port)).toEqual([]);
      expect(new Set(after)).toEqual(new Set([cluster.replicas[0].port]));
      await until(async () => (await appConnections(dropped)) === 0, "the dropped replica's pool closed");
      await until(async () => (await appConnections(dropped, HEALTH_NAME)) === 0, 'the health monitor no longer checks the dropped replica');
      // The replica that stays keeps its connections.
      expect(await appConnections(0)).toBeGreaterThan(0);
    });

    it('an empty list drops every discovered replica: reads go to the primary', async () => {
      listed = [];
      await until(() => labels().length === 0, 'the router lists no replica');
      const [{ port: primaryPort }] = await cluster.query<{ port: number }>('primary', 'SELECT inet_server_port() AS port');
      expect(new Set(await ports(5))).toEqual(new Set([primaryPort]));
    });
  });

  describe('by DNS', () => {
    it("{ dns: 'localhost', port }: the name's address on that port is the set's one replica (127.0.0.1, not ::1 as well)", async () => {
      const replica = cluster.replicas[0];
      const context = await createTestContext({ cluster, pindb: options(cluster, { dns: 'localhost', port: replica.port }) });
      try {
        const hosts = context.get(PinDbRouter).forSet('default').hosts.hosts;
        expect(hosts.map((host) => host.label)).toEqual([`127.0.0.1:${replica.port}`]);
        const dataSource = context.get<DataSource>(getDataSourceToken());
        expect(new Set(await Promise.all(Array.from({ length: 10 }, () => readPort(dataSource))))).toEqual(new Set([replica.port]));
      } finally {
        await context.close();
      }
    });
  });
});
