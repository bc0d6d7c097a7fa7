import { connectPgCluster, PgCluster, PgClusterError } from '../../lib/testing/index.js';
import { testCluster, uniqueName } from '../support/test-cluster.js';

describe('connectPgCluster: an existing cluster given by URLs', () => {
  let started: PgCluster;
  let external: PgCluster;
  beforeAll(async () => {
    started = await testCluster({ replicas: 1 });
    external = connectPgCluster({ primaryUrl: started.primary.url, replicaUrls: started.replicas.map((r) => r.url) });
  });
  afterAll(() => started?.stop());

  it('parses the URLs into TypeORM connection options', () => {
    expect(external.external).toBe(true);
    expect(external.primary).toMatchObject({ host: started.primary.host, port: started.primary.port, username: 'postgres', database: 'postgres' });
    expect(external.replicas.map((r) => r.port)).toEqual(started.replicas.map((r) => r.port));
  });

  it('queries its servers and waits for replay', async () => {
    const table = uniqueName('external');
    await external.query('primary', `CREATE TABLE ${table} AS SELECT 7 AS seven`);
    await external.waitForReplay();
    expect(await external.query(0, `SELECT seven, inet_server_port() AS port FROM ${table}`)).toEqual([{ seven: 7, port: started.replicas[0].port }]);
  });

  it('refuses fault controls with an error that says why, and stop() leaves the servers running', async () => {
    await expect(external.stopReplica(0)).rejects.toThrow(PgClusterError);
    await expect(external.freezeReplica(0)).rejects.toThrow(/needs a cluster started by startPgCluster/);
    await expect(external.freezePrimary()).rejects.toThrow(/freezePrimary\(\) needs a cluster started by startPgCluster/);
    await expect(external.cutReplicaStream(0)).rejects.toThrow(/cutReplicaStream\(\) needs a cluster started by startPgCluster/);
    await external.stop();
    expect(await started.query(0, 'SELECT 1 AS up')).toEqual([{ up: 1 }]);
  });
});
