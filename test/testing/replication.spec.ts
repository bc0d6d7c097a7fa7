import { PgCluster } from '../../lib/testing/index.js';
import { testCluster, uniqueName } from '../support/test-cluster.js';

describe('startPgCluster: streaming replication', () => {
  let cluster: PgCluster;
  beforeAll(async () => {
    cluster = await testCluster({ replicas: 2 });
  });
  afterAll(() => cluster?.stop());

  it('starts a primary and two hot standbys, each streaming from the primary', async () => {
    expect(cluster.replicas).toHaveLength(2);
    const streaming = await cluster.query<{ application_name: string }>(
      'primary',
      "SELECT application_name FROM pg_stat_replication WHERE state = 'streaming' ORDER BY 1",
    );
    expect(streaming.length).toBeGreaterThanOrEqual(2);
    for (const i of [0, 1]) {
      const [{ in_recovery, port }] = await cluster.query<{ in_recovery: boolean; port: number }>(
        i,
        'SELECT pg_is_in_recovery() AS in_recovery, inet_server_port() AS port',
      );
      expect(in_recovery).toBe(true);
      expect(port).toBe(cluster.replicas[i].port);
    }
    const [{ in_recovery }] = await cluster.query<{ in_recovery: boolean }>('primary', 'SELECT pg_is_in_recovery() AS in_recovery');
    expect(in_recovery).toBe(false);
  });

  it('shows a row written on the primary on every replica', async () => {
    const table = uniqueName('replicated');
    await cluster.query('primary', `CREATE TABLE ${table} (id int PRIMARY KEY, note text)`);
    await cluster.query('primary', `INSERT INTO ${table} VALUES (1, 'written on the primary')`);
    await cluster.waitForReplay();
    for (const i of [0, 1]) {
      expect(await cluster.query(i, `SELECT note FROM ${table}`)).toEqual([{ note: 'written on the primary' }]);
    }
  });

  it('refuses writes on a replica, as a hot standby does', async () => {
    await expect(cluster.query(0, 'CREATE TABLE refused (id int)')).rejects.toMatchObject({ code: '25006' });
  });

  it('gives connection options in the shape TypeORM takes, with a matching URL', () => {
    for (const server of [cluster.primary, ...cluster.replicas]) {
      expect(server).toEqual(
        expect.objectContaining({ host: expect.any(String), port: expect.any(Number), username: expect.any(String), database: expect.any(String) }),
      );
      const url = new URL(server.url);
      expect([url.hostname, Number(url.port), url.username, url.pathname]).toEqual([server.host, server.port, server.username, `/${server.database}`]);
    }
  });
});
