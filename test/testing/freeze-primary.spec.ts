import { Client } from 'pg';
import { PgCluster } from '../../lib/testing/index.js';
import { describeWithFaults, testCluster } from '../support/test-cluster.js';

function client(url: string, connectTimeoutMs: number): Client {
  const pg = new Client({ connectionString: url, connectionTimeoutMillis: connectTimeoutMs });
  pg.on('error', () => undefined);
  return pg;
}

describeWithFaults('freezePrimary / thawPrimary', () => {
  let cluster: PgCluster;
  beforeAll(async () => {
    cluster = await testCluster({ replicas: 1 });
  });
  afterEach(() => cluster.thawPrimary());
  afterAll(() => cluster?.stop());

  it('a frozen primary makes a connect time out and holds a query already sent until thawed; the replica keeps answering', async () => {
    const open = client(cluster.primary.url, 5000);
    await open.connect();
    await cluster.freezePrimary();

    const fresh = client(cluster.primary.url, 1000);
    await expect(fresh.connect()).rejects.toThrow(/timeout/i);
    let answered = false;
    const pending = open.query('SELECT inet_server_port() AS port').then((result) => {
      answered = true;
      return result.rows;
    });
    // The replica answers a round trip while the primary's query is still pending.
    expect(await cluster.query(0, 'SELECT inet_server_port() AS port')).toEqual([{ port: cluster.replicas[0].port }]);
    expect(answered).toBe(false);

    await cluster.thawPrimary();
    expect(await pending).toEqual([{ port: cluster.primary.port }]);
    await open.end();
  });
});
