import { INestApplicationContext } from '@nestjs/common';
import { getDataSourceToken } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { RoutingService } from '../../lib/index.js';
import type { PgCluster } from '../../lib/testing/index.js';
import { NotesService } from '../support/probe.js';
import { createTestContext } from '../support/test-app.js';
import { pauseReplicas, resumeReplicas, testCluster, uniqueName } from '../support/test-cluster.js';

const PORT_SQL = 'SELECT inet_server_port() AS port';
const rawPort = async (source: DataSource | EntityManager) => Number((await source.query(PORT_SQL))[0].port);

describe('raw queries (dataSource.query, manager.query) and the rawReads option', () => {
  let cluster: PgCluster;
  let replicaPorts: number[];
  let table: string;
  const apps: INestApplicationContext[] = [];

  async function app(rawReads?: boolean): Promise<{ routing: RoutingService; dataSource: DataSource; context: INestApplicationContext }> {
    const context = await createTestContext({ cluster, providers: [NotesService], pindb: rawReads === undefined ? {} : { rawReads } });
    apps.push(context);
    return { context, routing: context.get(RoutingService), dataSource: context.get(getDataSourceToken()) };
  }
  const rowsTagged = async (tag: string) =>
    Number((await cluster.query<{ n: string }>('primary', `SELECT count(*) AS n FROM ${table} WHERE tag = $1`, [tag]))[0].n);

  beforeAll(async () => {
    cluster = await testCluster({ replicas: 2 });
    replicaPorts = cluster.replicas.map((replica) => replica.port);
    table = uniqueName('raw_item');
    await cluster.query('primary', `CREATE TABLE ${table} (id serial PRIMARY KEY, tag text NOT NULL)`);
    await cluster.waitForReplay();
  });
  afterAll(async () => {
    for (const context of apps) await context.close();
    await cluster?.stop();
  });

  describe('rawReads: true', () => {
    let routing: RoutingService;
    let dataSource: DataSource;
    let context: INestApplicationContext;
    beforeAll(async () => ({ routing, dataSource, context } = await app(true)));

    it('dataSource.query() and manager.query() reads in a context go to a replica, unpinned, counted as replica queries', async () => {
      const result = await routing.run(async () => ({
        dataSource: await rawPort(dataSource),
        manager: await rawPort(dataSource.manager),
        pinned: routing.isPinned(),
        stats: routing.stats().sets.default,
      }));
      expect(replicaPorts).toContain(result.dataSource);
      expect(replicaPorts).toContain(result.manager);
      expect(result.pinned).toBe(false);
      expect(result.stats).toMatchObject({ replica: 2, primary: 0, retries: 0 });
    });

    it('a raw INSERT among them pins the set: it is written once on the primary, and the raw reads after it go to the primary', async () => {
      const tag = 'inserted raw';
      const result = await routing.run(async () => {
        const before = await rawPort(dataSource);
        const [inserted] = await dataSource.query(`INSERT INTO ${table} (tag) VALUES ($1) RETURNING inet_server_port() AS port`, [tag]);
        return {
          before,
          inserted: Number(inserted.port),
          pinned: routing.isPinned(),
          after: await rawPort(dataSource),
          managerAfter: await rawPort(dataSource.manager),
        };
      });
      expect(replicaPorts).toContain(result.before);
      expect(result).toMatchObject({ inserted: cluster.primary.port, pinned: true, after: cluster.primary.port, managerAfter: cluster.primary.port });
      expect(await rowsTagged(tag)).toBe(1);
    });

    it('a raw write through manager.query() pins the set as well', async () => {
      const tag = 'inserted raw by the manager';
      const result = await routing.run(async () => {
        await dataSource.manager.query(`INSERT INTO ${table} (tag) VALUES ($1)`, [tag]);
        return { pinned: routing.isPinned(), after: await rawPort(dataSource) };
      });
      expect(result).toEqual({ pinned: true, after: cluster.primary.port });
      expect(await rowsTagged(tag)).toBe(1);
    });

    it('raw reads follow the context’s routing: pin, usePrimary and useReplica scopes', async () => {
      const result = await routing.run(async () => {
        const primaryScope = await routing.usePrimary(() => rawPort(dataSource));
        routing.pin();
        const pinned = await rawPort(dataSource.manager);
        const replicaScope = await routing.useReplica(() => rawPort(dataSource));
        return { primaryScope, pinned, replicaScope };
      });
      expect(result.primaryScope).toBe(cluster.primary.port);
      expect(result.pinned).toBe(cluster.primary.port);
      expect(replicaPorts).toContain(result.replicaScope);
    });

    it('raw reads follow the context’s token: a read-your-writes token no replica has replayed sends them to the primary', async () => {
      await pauseReplicas(cluster);
      try {
        const token = await routing.run(async () => {
          await context.get(NotesService).write('for a token');
          return routing.token();
        });
        expect(token).toBeDefined();
        const withToken = await routing.run(async () => ({ port: await rawPort(dataSource), pinned: routing.isPinned() }), { token });
        expect(withToken).toEqual({ port: cluster.primary.port, pinned: false });
        expect(replicaPorts).toContain(await routing.run(() => rawPort(dataSource)));
      } finally {
        await resumeReplicas(cluster);
      }
    });

    it('outside any context: a raw read goes where TypeORM’s reads go (a replica), a raw write to the primary', async () => {
      expect(replicaPorts).toContain(await rawPort(dataSource));
      expect(replicaPorts).toContain(await rawPort(dataSource.manager));
      const tag = 'inserted raw outside a context';
      const [inserted] = await dataSource.query(`INSERT INTO ${table} (tag) VALUES ($1) RETURNING inet_server_port() AS port`, [tag]);
      expect(Number(inserted.port)).toBe(cluster.primary.port);
      expect(await rowsTagged(tag)).toBe(1);
    });

    it('a query given its own runner, or a manager bound to one (a transaction), runs on that runner', async () => {
      const result = await routing.run(async () => {
        const runner = dataSource.createQueryRunner('master');
        try {
          return {
            ownRunner: Number((await dataSource.query(PORT_SQL, [], runner))[0].port),
            transaction: await dataSource.transaction((manager) => rawPort(manager)),
          };
        } finally {
          await runner.release();
        }
      });
      expect(result.ownRunner).toBe(cluster.primary.port);
      expect(result.transaction).toBe(cluster.primary.port);
    });

    it('releases the runner of each raw query', async () => {
      await routing.run(async () => {
        await rawPort(dataSource);
        await dataSource.query(`INSERT INTO ${table} (tag) VALUES ('released')`);
        await rawPort(dataSource.manager);
      });
      await expect(dataSource.query('SELECT * FROM no_such_table')).rejects.toThrow(/no_such_table/);
      expect(dataSource.driver).toHaveProperty('connectedQueryRunners', []);
    });
  });

  describe('rawReads: false (the default)', () => {
    let routing: RoutingService;
    let dataSource: DataSource;
    beforeAll(async () => ({ routing, dataSource } = await app()));

    it('raw reads run on the primary, in a context or outside one, and a read there does not pin', async () => {
      const result = await routing.run(async () => ({
        dataSource: await rawPort(dataSource),
        manager: await rawPort(dataSource.manager),
        pinned: routing.isPinned(),
        stats: routing.stats().sets.default,
      }));
      expect(result).toMatchObject({ dataSource: cluster.primary.port, manager: cluster.primary.port, pinned: false });
      expect(result.stats).toMatchObject({ primary: 2, replica: 0 });
      expect(await rawPort(dataSource)).toBe(cluster.primary.port);
    });

    it('explicitly false behaves the same', async () => {
      const { routing: explicit, dataSource: source } = await app(false);
      expect(await explicit.run(() => rawPort(source))).toBe(cluster.primary.port);
    });
  });
});
