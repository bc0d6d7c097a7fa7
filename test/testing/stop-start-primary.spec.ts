import { PgCluster } from '../../lib/testing/index.js';
import { describeWithFaults, testCluster, uniqueName } from '../support/test-cluster.js';

describeWithFaults('stopPrimary / startPrimary', () => {
  let cluster: PgCluster;
  beforeAll(async () => {
    cluster = await testCluster({ replicas: 2 });
  });
  afterAll(() => cluster?.stop());

  it('stopPrimary refuses connections while the replicas keep answering; startPrimary brings it back with the replicas streaming', async () => {
    const table = uniqueName('before_stop');
    await cluster.query('primary', `CREATE TABLE ${table} AS SELECT 7 AS answer`);
    await cluster.waitForReplay();

    await cluster.stopPrimary('immediate');
    await expect(cluster.query('primary', 'SELECT 1')).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    expect(await cluster.query(0, `SELECT answer FROM ${table}`)).toEqual([{ answer: 7 }]);
    expect(await cluster.query(1, `SELECT answer FROM ${table}`)).toEqual([{ answer: 7 }]);

    await cluster.startPrimary();
    const streaming = await cluster.query('primary', "SELECT count(*)::int AS n FROM pg_stat_replication WHERE state = 'streaming'");
    expect(streaming).toEqual([{ n: 2 }]);
    await cluster.query('primary', `INSERT INTO ${table} VALUES (8)`);
    await cluster.waitForReplay();
    expect(await cluster.query(1, `SELECT answer FROM ${table} ORDER BY answer`)).toEqual([{ answer: 7 }, { answer: 8 }]);
  });

  it('rejects a stop mode other than fast or immediate, saying which it takes', async () => {
    await expect(cluster.stopPrimary('smart' as never)).rejects.toThrow('stopPrimary("smart"): mode is "fast" or "immediate".');
  });
});
