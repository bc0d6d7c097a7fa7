import { PgCluster } from '../../lib/testing/index.js';
import { describeWithFaults, testCluster, uniqueName } from '../support/test-cluster.js';

const count = async (cluster: PgCluster, server: 'primary' | number, table: string) =>
  Number((await cluster.query<{ n: string }>(server, `SELECT count(*) AS n FROM ${table}`))[0].n);

describeWithFaults('replay controls', () => {
  let cluster: PgCluster;
  let table: string;
  beforeAll(async () => {
    cluster = await testCluster({ replicas: 2 });
    table = uniqueName('replay');
    await cluster.query('primary', `CREATE TABLE ${table} (id serial PRIMARY KEY)`);
    await cluster.waitForReplay();
  });
  afterAll(() => cluster?.stop());

  it('pauseReplay keeps a replica behind until resumeReplay', async () => {
    await cluster.pauseReplay(0);
    await cluster.query('primary', `INSERT INTO ${table} DEFAULT VALUES`);
    await cluster.waitForReplay({ replicas: [1] });
    expect(await count(cluster, 1, table)).toBe(await count(cluster, 'primary', table));
    // Still behind well after replica 1 caught up.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await count(cluster, 0, table)).toBe((await count(cluster, 'primary', table)) - 1);
    await expect(cluster.waitForReplay({ replicas: [0], timeoutMs: 200 })).rejects.toThrow(/resumeReplay/);

    await cluster.resumeReplay(0);
    await cluster.waitForReplay();
    expect(await count(cluster, 0, table)).toBe(await count(cluster, 'primary', table));
  });

  it('setApplyDelay(0, 1000) shows a new row on replica 0 no sooner than ~1 s later, on replica 1 at once', async () => {
    await cluster.setApplyDelay(0, 1000);
    const before = await count(cluster, 'primary', table);
    const written = Date.now();
    await cluster.query('primary', `INSERT INTO ${table} DEFAULT VALUES`);

    await cluster.waitForReplay({ replicas: [1] });
    const onReplica1 = Date.now() - written;
    expect(await count(cluster, 1, table)).toBe(before + 1);
    expect(await count(cluster, 0, table)).toBe(before);

    while ((await count(cluster, 0, table)) === before) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const onReplica0 = Date.now() - written;
    expect(onReplica1).toBeLessThan(900);
    // Commit timestamps are taken on the primary a moment after `written`: allow for clock granularity.
    expect(onReplica0).toBeGreaterThanOrEqual(950);
    expect(onReplica0).toBeLessThan(5000);

    await cluster.setApplyDelay(0, 0);
  });

  it('applyDelayMs delays every replica from the start', async () => {
    const delayed = await testCluster({ replicas: 1, applyDelayMs: 700 });
    try {
      const [{ delay }] = await delayed.query<{ delay: string }>(0, "SELECT current_setting('recovery_min_apply_delay') AS delay");
      expect(delay).toBe('700ms');
    } finally {
      await delayed.stop();
    }
  });
});
