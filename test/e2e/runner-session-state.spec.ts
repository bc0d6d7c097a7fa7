import { INestApplicationContext } from '@nestjs/common';
import { getDataSourceToken } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { ReplicaSessionStateError, RoutingService } from '../../lib/index.js';
import type { PgCluster } from '../../lib/testing/index.js';
import { createTestContext } from '../support/test-app.js';
import { testCluster } from '../support/test-cluster.js';

/**
 * A query runner made for reads sets session state on its replica connection (search_path, a
 * role), then writes: the write moves it to the primary, and the state must go with it; the
 * replica connection must not go back to the pool still carrying it.
 */
describe('session state on a read-mode query runner that moves to the primary', () => {
  let cluster: PgCluster;
  let context: INestApplicationContext;
  let routing: RoutingService;
  let dataSource: DataSource;
  const count = async (table: string, text: string) =>
    Number((await cluster.query<{ n: string }>('primary', `SELECT count(*) AS n FROM ${table} WHERE text = $1`, [text]))[0].n);

  beforeAll(async () => {
    cluster = await testCluster({ replicas: 2 });
    context = await createTestContext({ cluster });
    routing = context.get(RoutingService);
    dataSource = context.get(getDataSourceToken());
    await cluster.query('primary', 'CREATE SCHEMA tenant_a');
    await cluster.query('primary', 'CREATE TABLE tenant_a.note (id serial PRIMARY KEY, text varchar NOT NULL)');
    await cluster.query('primary', 'CREATE ROLE tenant_writer');
    await cluster.query('primary', 'GRANT USAGE ON SCHEMA public, tenant_a TO tenant_writer');
    await cluster.query('primary', 'GRANT INSERT, SELECT ON ALL TABLES IN SCHEMA public, tenant_a TO tenant_writer');
    await cluster.query('primary', 'GRANT USAGE ON ALL SEQUENCES IN SCHEMA public, tenant_a TO tenant_writer');
    await cluster.waitForReplay();
  });
  afterAll(async () => {
    await context?.close();
    await cluster?.stop();
  });

  /** Runs fn on a fresh 'slave' runner inside a context, and releases it. */
  async function onReadRunner<T>(fn: (runner: ReturnType<DataSource['createQueryRunner']>) => Promise<T>): Promise<T> {
    const runner = dataSource.createQueryRunner('slave');
    try {
      return await routing.run(() => fn(runner));
    } finally {
      await runner.release();
    }
  }

  it('SET search_path, then INSERT: the row lands in the tenant schema, on the primary, and the runner keeps the setting there', async () => {
    const result = await onReadRunner(async (runner) => {
      const [before] = await runner.query('SELECT inet_server_port() AS port');
      await runner.query('SET search_path TO tenant_a');
      const [inserted] = await runner.query("INSERT INTO note (text) VALUES ('tenant row') RETURNING inet_server_port() AS port");
      const [after] = await runner.query("SELECT current_setting('search_path') AS path, inet_server_port() AS port");
      return { before: before.port, inserted: inserted.port, after };
    });
    expect(cluster.replicas.map((replica) => replica.port)).toContain(result.before);
    expect(result.inserted).toBe(cluster.primary.port);
    expect(result.after).toEqual({ path: 'tenant_a', port: cluster.primary.port });
    expect(await count('tenant_a.note', 'tenant row')).toBe(1);
    expect(await count('public.note', 'tenant row')).toBe(0);
  });

  it('the replica connection that carried the setting never goes back to the pool as it is: later reads on the replicas see the default search_path', async () => {
    await onReadRunner(async (runner) => {
      await runner.query('SET search_path TO tenant_a');
      await runner.query("INSERT INTO note (text) VALUES ('second tenant row')");
    });
    // Every pooled replica connection, many times over.
    const reads = await Promise.all(
      Array.from({ length: 40 }, () =>
        routing.run(() =>
          dataSource.createQueryBuilder().select("current_setting('search_path')", 'path').addSelect('inet_server_port()', 'port').fromDummy().getRawOne(),
        ),
      ),
    );
    const replicaPorts = cluster.replicas.map((replica) => replica.port);
    expect(reads.every((read) => replicaPorts.includes(read.port))).toBe(true);
    expect(new Set(reads.map((read) => read.path))).toEqual(new Set(['"$user", public']));
  });

  it('SET ROLE, then INSERT: the write runs on the primary under that role', async () => {
    const [row] = await onReadRunner(async (runner) => {
      await runner.query('SET ROLE tenant_writer');
      return runner.query("INSERT INTO note (text) VALUES ('as tenant_writer') RETURNING current_user AS who, inet_server_port() AS port");
    });
    expect(row).toEqual({ who: 'tenant_writer', port: cluster.primary.port });
  });

  it('state that cannot be carried (set_config() inside a query) is a ReplicaSessionStateError naming usePrimary, before the write is sent', async () => {
    const attempt = onReadRunner(async (runner) => {
      await runner.query("SELECT set_config('search_path', 'tenant_a', false)");
      await runner.query("INSERT INTO note (text) VALUES ('must not be written')");
    });
    await expect(attempt).rejects.toThrow(ReplicaSessionStateError);
    await expect(attempt).rejects.toThrow(/createQueryRunner\('master'\).*routing\.usePrimary/);
    expect(await count('tenant_a.note', 'must not be written')).toBe(0);
    expect(await count('public.note', 'must not be written')).toBe(0);
  });
});
