import { startPgCluster } from './lib/testing';
(async () => {
  const t0 = Date.now();
  const c = await startPgCluster({ replicas: 2 });
  console.log('started in', Date.now() - t0, c.primary, c.replicas.map(r => r.port));
  await c.query('primary', 'CREATE TABLE t (id int)');
  await c.query('primary', 'INSERT INTO t VALUES (1)');
  await c.waitForReplay();
  console.log(await c.query(0, 'SELECT count(*) FROM t'), await c.query(1, 'SELECT inet_server_port()'));
  await c.setApplyDelay(0, 1000);
  await c.pauseReplay(1); await c.resumeReplay(1);
  await c.stopReplica(0, 'immediate'); await c.startReplica(0);
  await c.killReplica(1); await c.startReplica(1);
  await c.freezeReplica(0); await c.thawReplica(0);
  const t1 = Date.now();
  await c.stop();
  console.log('stopped in', Date.now() - t1);
})().catch(e => { console.error('ERR', e); process.exit(1); });
