import { INestApplicationContext } from '@nestjs/common';
import { getDataSourceToken } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { RoutingService } from '../../lib/index.js';
import type { PgCluster } from '../../lib/testing/index.js';
import { readPort } from '../support/probe.js';
import { createTestContext } from '../support/test-app.js';
import { testCluster } from '../support/test-cluster.js';

describe('a statement a replica refuses as read-only (SQLSTATE 25006)', () => {
  let cluster: PgCluster;
  let context: INestApplicationContext;
  let routing: RoutingService;
  let dataSource: DataSource;
  const warnings: string[] = [];
  const replicaPorts = () => cluster.replicas.map((r) => r.port);

  beforeAll(async () => {
    cluster = await testCluster({ replicas: 2 });
    // A SELECT that writes: a volatile function with an INSERT inside, which only the primary accepts.
    await cluster.query('primary', 'CREATE TABLE visit (id serial PRIMARY KEY, at timestamptz DEFAULT now())');
    await cluster.query('primary', 'CREATE FUNCTION record_visit() RETURNS int LANGUAGE sql VOLATILE AS $$ INSERT INTO visit DEFAULT VALUES RETURNING id $$');
    await cluster.waitForReplay();
    context = await createTestContext({ cluster });
    context.useLogger({ log() {}, error() {}, warn: (message: string) => warnings.push(message) });
    routing = context.get(RoutingService);
    dataSource = context.get(getDataSourceToken());
  });
  afterAll(async () => {
    await context?.close();
    await cluster?.stop();
  });

  it('is retried once on the primary: the row is written once, the set is pinned, and a warning names it', async () => {
    const result = await routing.run(async () => {
      const row = await dataSource.createQueryBuilder().select('record_visit()', 'id').addSelect('inet_server_port()', 'port').fromDummy().getRawOne();
      return { row, pinned: routing.isPinned(), next: await readPort(dataSource), stats: routing.stats() };
    });
    expect(Number(result.row.port)).toBe(cluster.primary.port);
    expect(await cluster.query('primary', 'SELECT id FROM visit')).toEqual([{ id: Number(result.row.id) }]);
    expect(result.pinned).toBe(true);
    expect(result.next).toBe(cluster.primary.port);
    expect(result.stats.sets.default).toMatchObject({ retries: 1, replica: 1, primary: 2 });
    expect(warnings.some((w) => /refused this statement as read-only.*record_visit\(\)/.test(w))).toBe(true);
  });

  it('a write sent on a replica-mode query runner goes to the primary instead, never to a replica', async () => {
    const runner = dataSource.createQueryRunner('slave');
    try {
      await routing.run(() => runner.query('INSERT INTO visit DEFAULT VALUES'));
      expect((await runner.query('SELECT inet_server_port() AS port'))[0].port).toBe(cluster.primary.port);
    } finally {
      await runner.release();
    }
    expect(Number((await cluster.query<{ n: string }>('primary', 'SELECT count(*) AS n FROM visit'))[0].n)).toBe(2);
  });

  it('a replica-mode runner that has read and then opens a transaction moves to the primary for it', async () => {
    const runner = dataSource.createQueryRunner('slave');
    try {
      await routing.run(async () => {
        expect(replicaPorts()).toContain((await runner.query('SELECT inet_server_port() AS port'))[0].port);
        await runner.startTransaction();
        await runner.query('INSERT INTO visit DEFAULT VALUES');
        expect((await runner.query('SELECT inet_server_port() AS port'))[0].port).toBe(cluster.primary.port);
        await runner.commitTransaction();
      });
    } finally {
      await runner.release();
    }
    expect(Number((await cluster.query<{ n: string }>('primary', 'SELECT count(*) AS n FROM visit'))[0].n)).toBe(3);
  });
});
