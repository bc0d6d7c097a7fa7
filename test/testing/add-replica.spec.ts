import { existsSync } from 'node:fs';
import { connectPgCluster, PgCluster, PgServerName } from '../../lib/testing/index.js';
import { anyServerAlive, clusterFootprint } from '../support/cluster-processes.js';
import { describeWithFaults, testCluster, uniqueName } from '../support/test-cluster.js';

const ids = async (cluster: PgCluster, server: PgServerName, table: string) =>
  (await cluster.query<{ id: number }>(server, `SELECT id FROM ${table} ORDER BY id`)).map((row) => row.id);

const streamsTo = async (cluster: PgCluster, upstream: PgServerName) =>
  (await cluster.query<{ name: string }>(upstream, "SELECT application_name AS name FROM pg_stat_replication WHERE state = 'streaming' ORDER BY 1")).map(
    (row) => row.name,
  );

describeWithFaults('addReplica', () => {
  it('adds a streaming replica that serves rows written before and after it was added, with every control by its index; stop() removes it too', async () => {
    const cluster = await testCluster({ replicas: 1 });
    try {
      const table = uniqueName('added');
      await cluster.query('primary', `CREATE TABLE ${table} (id int PRIMARY KEY)`);
      await cluster.query('primary', `INSERT INTO ${table} VALUES (1)`);
      const before = cluster.replicas;

      expect(await cluster.addReplica()).toBe(1);

      expect(cluster.replicas).toHaveLength(2);
      // An array handed out before (to an app's config) is left as it was.
      expect(before).toHaveLength(1);
      expect(cluster.replicas[0]).toBe(before[0]);
      expect(await streamsTo(cluster, 'primary')).toEqual(['replica_0', 'replica_1']);
      const [{ in_recovery, port }] = await cluster.query<{ in_recovery: boolean; port: number }>(
        1,
        'SELECT pg_is_in_recovery() AS in_recovery, inet_server_port() AS port',
      );
      expect([in_recovery, port]).toEqual([true, cluster.replicas[1].port]);
      expect(new Set([cluster.primary.port, ...cluster.replicas.map((r) => r.port)]).size).toBe(3);

      await cluster.waitForReplay();
      expect(await ids(cluster, 1, table)).toEqual([1]);
      await cluster.query('primary', `INSERT INTO ${table} VALUES (2)`);
      await cluster.waitForReplay();
      expect(await ids(cluster, 1, table)).toEqual([1, 2]);
      await expect(cluster.query(1, `INSERT INTO ${table} VALUES (3)`)).rejects.toMatchObject({ code: '25006' });

      await cluster.pauseReplay(1);
      await cluster.query('primary', `INSERT INTO ${table} VALUES (3)`);
      await cluster.waitForReplay({ replicas: [0] });
      expect(await ids(cluster, 1, table)).toEqual([1, 2]);
      await cluster.resumeReplay(1);
      await cluster.stopReplica(1, 'immediate');
      await expect(cluster.query(1, 'SELECT 1')).rejects.toMatchObject({ code: 'ECONNREFUSED' });
      await cluster.startReplica(1);
      await cluster.waitForReplay();
      expect(await ids(cluster, 1, table)).toEqual([1, 2, 3]);

      const footprint = await clusterFootprint(cluster);
      expect(footprint.pids.length).toBeGreaterThan(3);
      await cluster.stop();
      expect(anyServerAlive(footprint)).toBe(false);
      expect(existsSync(footprint.baseDir)).toBe(false);
    } finally {
      await cluster.stop();
    }
  });

  it('after promoteReplica, copies the new primary: the added replica follows its timeline', async () => {
    const cluster = await testCluster({ replicas: 1, applyDelayMs: 0 });
    try {
      const table = uniqueName('after_promotion');
      await cluster.query('primary', `CREATE TABLE ${table} (id int PRIMARY KEY)`);
      await cluster.waitForReplay();
      await cluster.stopPrimary('fast');
      await cluster.promoteReplica(0);
      await cluster.query(0, `INSERT INTO ${table} VALUES (1)`);

      expect(await cluster.addReplica()).toBe(1);

      expect(await streamsTo(cluster, 0)).toEqual(['replica_1']);
      await cluster.query(0, `INSERT INTO ${table} VALUES (2)`);
      await cluster.waitForReplay();
      expect(await ids(cluster, 1, table)).toEqual([1, 2]);
      const [{ timeline }] = await cluster.query<{ timeline: number }>(1, 'SELECT received_tli AS timeline FROM pg_stat_wal_receiver');
      expect(timeline).toBe(2);
    } finally {
      await cluster.stop();
    }
  });

  it('two calls at once add two replicas, one after the other', async () => {
    const cluster = await testCluster({ replicas: 0 });
    try {
      expect((await Promise.all([cluster.addReplica(), cluster.addReplica()])).sort()).toEqual([0, 1]);
      expect(await streamsTo(cluster, 'primary')).toEqual(['replica_0', 'replica_1']);
    } finally {
      await cluster.stop();
    }
  });

  it('an external cluster refuses, saying why', async () => {
    const external = connectPgCluster({ primaryUrl: 'postgres://postgres@127.0.0.1:1/postgres', replicaUrls: [] });
    await expect(external.addReplica()).rejects.toThrow(/addReplica\(\) needs a cluster started by startPgCluster/);
  });
});
