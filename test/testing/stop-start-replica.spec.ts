import { Client } from 'pg';
import { PgCluster } from '../../lib/testing/index.js';
import { describeWithFaults, testCluster, uniqueName } from '../support/test-cluster.js';

describeWithFaults('stopReplica / startReplica', () => {
  let cluster: PgCluster;
  beforeAll(async () => {
    cluster = await testCluster({ replicas: 2 });
  });
  afterAll(() => cluster?.stop());

  it.each(['fast', 'immediate'] as const)('stopReplica(0, %s) refuses connections; startReplica brings it back streaming and caught up', async (mode) => {
    await cluster.stopReplica(0, mode);
    await expect(cluster.query(0, 'SELECT 1')).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    // The other replica is untouched.
    expect(await cluster.query(1, 'SELECT 1 AS one')).toEqual([{ one: 1 }]);

    const table = uniqueName('while_down');
    await cluster.query('primary', `CREATE TABLE ${table} AS SELECT 42 AS answer`);

    await cluster.startReplica(0);
    const streaming = await cluster.query('primary', "SELECT 1 FROM pg_stat_replication WHERE application_name = 'replica_0' AND state = 'streaming'");
    expect(streaming).toHaveLength(1);
    await cluster.waitForReplay();
    expect(await cluster.query(0, `SELECT answer FROM ${table}`)).toEqual([{ answer: 42 }]);
  });

  it('killReplica (SIGKILL of the postmaster) refuses connections; startReplica recovers it', async () => {
    const client = new Client({ connectionString: cluster.replicas[1].url });
    await client.connect();
    client.on('error', () => undefined);
    await cluster.killReplica(1);
    // Its backends are gone too: an open connection is broken, a new one refused.
    await expect(client.query('SELECT 1')).rejects.toThrow();
    await expect(cluster.query(1, 'SELECT 1')).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    await client.end().catch(() => undefined);

    await cluster.startReplica(1);
    const [{ in_recovery }] = await cluster.query<{ in_recovery: boolean }>(1, 'SELECT pg_is_in_recovery() AS in_recovery');
    expect(in_recovery).toBe(true);
  });
});
