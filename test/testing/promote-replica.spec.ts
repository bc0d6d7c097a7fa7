import { connectPgCluster, PgCluster, PgClusterError, PgServerName } from '../../lib/testing/index.js';
import { describeWithFaults, testCluster, uniqueName } from '../support/test-cluster.js';

/** The timeline of the server's latest checkpoint (restartpoint on a standby), taken now so that a promotion shows. */
async function timeline(cluster: PgCluster, server: PgServerName): Promise<number> {
  await cluster.query(server, 'CHECKPOINT');
  return (await cluster.query<{ timeline_id: number }>(server, 'SELECT timeline_id FROM pg_control_checkpoint()'))[0].timeline_id;
}

const inRecovery = async (cluster: PgCluster, server: PgServerName) => (await cluster.query<{ r: boolean }>(server, 'SELECT pg_is_in_recovery() AS r'))[0].r;

const ids = async (cluster: PgCluster, server: PgServerName, table: string) =>
  (await cluster.query<{ id: number }>(server, `SELECT id FROM ${table} ORDER BY id`)).map((row) => row.id);

/** Polls until replica `server` shows row `id` (a timeout fails the test). */
async function eventuallyHasRow(cluster: PgCluster, server: number, table: string, id: number): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!(await ids(cluster, server, table)).includes(id)) {
    if (Date.now() > deadline) throw new Error(`replica ${server} never showed row ${id} of ${table}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const streamsTo = async (cluster: PgCluster, upstream: PgServerName) =>
  (await cluster.query<{ name: string }>(upstream, "SELECT application_name AS name FROM pg_stat_replication WHERE state = 'streaming' ORDER BY 1")).map(
    (row) => row.name,
  );

describeWithFaults('promoteReplica', () => {
  let cluster: PgCluster | undefined;
  afterEach(async () => {
    await cluster?.stop();
    cluster = undefined;
  });

  it('with the old primary stopped: replica 0 becomes a writable primary on a newer timeline, replica 1 follows it; startPrimary brings the old primary back alone on its older timeline', async () => {
    const c = (cluster = await testCluster({ replicas: 2 }));
    const [primary, replicas] = [c.primary, c.replicas];
    const table = uniqueName('promoted');
    await c.query('primary', `CREATE TABLE ${table} (id int PRIMARY KEY)`);
    await c.query('primary', `INSERT INTO ${table} VALUES (1)`);
    await c.waitForReplay();
    const before = await timeline(c, 0);
    const oldTimeline = await timeline(c, 'primary');

    await c.stopPrimary('fast');
    await c.promoteReplica(0);

    expect(c.currentPrimary).toBe(0);
    // Names and indexes are stable: the same servers under the same names.
    expect(c.primary).toBe(primary);
    expect(c.replicas).toBe(replicas);
    expect(await inRecovery(c, 0)).toBe(false);
    expect(await timeline(c, 0)).toBeGreaterThan(before);
    expect(await inRecovery(c, 1)).toBe(true);
    expect(await streamsTo(c, 0)).toEqual(['replica_1']);

    await c.query(0, `INSERT INTO ${table} VALUES (2)`);
    await eventuallyHasRow(c, 1, table, 2);
    // waitForReplay now measures against the new primary.
    await c.query(0, `INSERT INTO ${table} VALUES (3)`);
    await c.waitForReplay();
    expect(await ids(c, 1, table)).toEqual([1, 2, 3]);

    await c.startPrimary();
    expect(await inRecovery(c, 'primary')).toBe(false);
    expect(await timeline(c, 'primary')).toBe(oldTimeline);
    expect(await timeline(c, 'primary')).toBeLessThan(await timeline(c, 0));
    expect(await c.query('primary', 'SELECT * FROM pg_stat_wal_receiver')).toEqual([]);
    expect(await streamsTo(c, 'primary')).toEqual([]);
    // The split-brain old primary has none of the new primary's rows, and what it takes reaches no replica.
    expect(await ids(c, 'primary', table)).toEqual([1]);
    await c.query('primary', `INSERT INTO ${table} VALUES (100)`);
    await c.query(0, `INSERT INTO ${table} VALUES (4)`);
    await c.waitForReplay();
    expect(await ids(c, 1, table)).toEqual([1, 2, 3, 4]);
    expect(await ids(c, 0, table)).toEqual([1, 2, 3, 4]);
  });

  it('with the old primary still running: replica 1 is promoted, replica 0 follows it, the old primary stays a primary that receives nothing', async () => {
    const c = (cluster = await testCluster({ replicas: 2 }));
    const table = uniqueName('split');
    await c.query('primary', `CREATE TABLE ${table} (id int PRIMARY KEY)`);
    await c.waitForReplay();
    const before = await timeline(c, 1);

    await c.promoteReplica(1);

    expect(c.currentPrimary).toBe(1);
    expect(await inRecovery(c, 1)).toBe(false);
    expect(await timeline(c, 1)).toBeGreaterThan(before);
    expect(await inRecovery(c, 'primary')).toBe(false);
    expect(await streamsTo(c, 'primary')).toEqual([]);
    expect(await streamsTo(c, 1)).toEqual(['replica_0']);

    await c.query('primary', `INSERT INTO ${table} VALUES (100)`);
    await c.query(1, `INSERT INTO ${table} VALUES (1)`);
    await eventuallyHasRow(c, 0, table, 1);
    await c.waitForReplay();
    expect(await ids(c, 0, table)).toEqual([1]);
    expect(await ids(c, 'primary', table)).toEqual([100]);
  });

  it('the controls keep working by index: the new primary stops and starts (its replica streams again), a replica stopped during the promotion follows it once started', async () => {
    const c = (cluster = await testCluster({ replicas: 3 }));
    const table = uniqueName('controls');
    await c.query('primary', `CREATE TABLE ${table} (id int PRIMARY KEY)`);
    await c.waitForReplay();
    await c.stopReplica(2);
    await c.stopPrimary('fast');
    await c.promoteReplica(0);
    expect(await streamsTo(c, 0)).toEqual(['replica_1']);

    await c.stopReplica(0);
    await expect(c.query(0, 'SELECT 1')).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    await c.startReplica(0);
    expect(await inRecovery(c, 0)).toBe(false);
    expect(await streamsTo(c, 0)).toEqual(['replica_1']);

    await c.query(0, `INSERT INTO ${table} VALUES (1)`);
    await c.startReplica(2);
    expect(await streamsTo(c, 0)).toEqual(['replica_1', 'replica_2']);
    await c.waitForReplay();
    expect(await ids(c, 2, table)).toEqual([1]);

    await c.cutReplicaStream(1);
    expect(await streamsTo(c, 0)).toEqual(['replica_2']);
    await c.restoreReplicaStream(1);
    expect(await streamsTo(c, 0)).toEqual(['replica_1', 'replica_2']);
  });

  it('refuses what makes no sense on a promoted replica, saying why; an external cluster refuses to promote', async () => {
    const c = (cluster = await testCluster({ replicas: 1 }));
    await c.promoteReplica(0);
    await expect(c.promoteReplica(0)).rejects.toThrow('promoteReplica(0): replica 0 is a primary since promoteReplica(0)');
    await expect(c.pauseReplay(0)).rejects.toThrow(PgClusterError);
    await expect(c.waitForReplay({ replicas: [0] })).rejects.toThrow(/replica 0 is a primary since promoteReplica\(0\)/);
    await expect(c.promoteReplica(3)).rejects.toThrow('No replica 3: this cluster has replicas 0 to 0.');

    const external = connectPgCluster({ primaryUrl: c.primary.url, replicaUrls: c.replicas.map((r) => r.url) });
    expect(external.currentPrimary).toBe('primary');
    await expect(external.promoteReplica(0)).rejects.toThrow(/promoteReplica\(\) needs a cluster started by startPgCluster/);
  });
});
