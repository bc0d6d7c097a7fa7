import { PgCluster } from '../../lib/testing/index.js';
import { describeWithFaults, testCluster, uniqueName } from '../support/test-cluster.js';

describeWithFaults('cutReplicaStream / restoreReplicaStream', () => {
  let cluster: PgCluster;
  beforeAll(async () => {
    cluster = await testCluster({ replicas: 2 });
  });
  afterAll(() => cluster?.stop());

  it('a cut replica answers queries but receives no WAL (it has replayed all it received); restored, it streams and catches up', async () => {
    const table = uniqueName('cut');
    await cluster.query('primary', `CREATE TABLE ${table} (n int)`);
    await cluster.waitForReplay();

    await cluster.cutReplicaStream(0);
    const streaming = await cluster.query<{ name: string }>('primary', 'SELECT application_name AS name FROM pg_stat_replication');
    expect(streaming.map((row) => row.name)).toEqual(['replica_1']);
    await cluster.query('primary', `INSERT INTO ${table} VALUES (1)`);
    // waitForReplay leaves the cut replica out: it would never catch up.
    await cluster.waitForReplay();
    expect(await cluster.query(1, `SELECT n FROM ${table}`)).toEqual([{ n: 1 }]);
    expect(await cluster.query(0, `SELECT n FROM ${table}`)).toEqual([]);
    const [primary] = await cluster.query<{ lsn: string }>('primary', 'SELECT pg_current_wal_lsn()::text AS lsn');
    const [cut] = await cluster.query<{ behind: boolean; replayedAll: boolean }>(
      0,
      'SELECT pg_last_wal_replay_lsn() < $1::pg_lsn AS behind, pg_last_wal_replay_lsn() >= pg_last_wal_receive_lsn() AS "replayedAll"',
      [primary.lsn],
    );
    expect(cut).toEqual({ behind: true, replayedAll: true });

    await cluster.restoreReplicaStream(0);
    await cluster.waitForReplay();
    expect(await cluster.query(0, `SELECT n FROM ${table}`)).toEqual([{ n: 1 }]);
  });
});
