import { Client } from 'pg';
import { PgCluster } from '../../lib/testing/index.js';
import { describeWithFaults, testCluster } from '../support/test-cluster.js';

async function connectWithin(url: string, timeoutMs: number): Promise<number> {
  const client = new Client({ connectionString: url, connectionTimeoutMillis: timeoutMs });
  client.on('error', () => undefined);
  try {
    await client.connect();
    return (await client.query('SELECT inet_server_port() AS port')).rows[0].port;
  } finally {
    await client.end().catch(() => undefined);
  }
}

describeWithFaults('freezeReplica / thawReplica', () => {
  let cluster: PgCluster;
  beforeAll(async () => {
    cluster = await testCluster({ replicas: 2 });
  });
  afterAll(() => cluster?.stop());

  it('a frozen replica makes a connect with a 1 s timeout time out; thawed, it answers again', async () => {
    await cluster.freezeReplica(0);
    const started = Date.now();
    await expect(connectWithin(cluster.replicas[0].url, 1000)).rejects.toThrow(/timeout/i);
    // It hung until the timeout rather than being refused at once.
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    expect(await connectWithin(cluster.replicas[1].url, 1000)).toBe(cluster.replicas[1].port);

    await cluster.thawReplica(0);
    expect(await connectWithin(cluster.replicas[0].url, 5000)).toBe(cluster.replicas[0].port);
  });

  it('a query on a connection opened before the freeze hangs until thaw', async () => {
    const client = new Client({ connectionString: cluster.replicas[1].url });
    await client.connect();
    await cluster.freezeReplica(1);
    let answered = false;
    const pending = client.query('SELECT 1 AS one').then((result) => {
      answered = true;
      return result.rows;
    });
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(answered).toBe(false);
    await cluster.thawReplica(1);
    expect(await pending).toEqual([{ one: 1 }]);
    await client.end();
  });
});
