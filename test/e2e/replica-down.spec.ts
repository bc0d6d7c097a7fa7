import type { PgCluster } from '../../lib/testing/index.js';
import { concurrentReads, countConnects, FAST_HEALTH, healthRounds, readLoad, replicaHost } from '../support/failover.js';
import { NotesService, ProbeController } from '../support/probe.js';
import { until } from '../support/token-cookies.js';
import { clusterApp } from '../support/test-app.js';
import { describeWithFaults } from '../support/test-cluster.js';

const FAULTS: [string, (cluster: PgCluster) => Promise<void>][] = [
  ["stopReplica(0, 'immediate')", (cluster) => cluster.stopReplica(0, 'immediate')],
  ['killReplica(0)', (cluster) => cluster.killReplica(0)],
];

describeWithFaults('a replica that goes down under load', () => {
  describe.each(FAULTS)('%s', (_name, fault) => {
    const env = clusterApp('express', () => ({
      pindb: { health: FAST_HEALTH },
      controllers: [ProbeController],
      providers: [NotesService],
    }));

    it('200 concurrent readers see no failure; the replica gets no connection while down; after a restart it serves again within two health rounds', async () => {
      const [down, other] = env.replicaPorts;
      const load = readLoad(env.app, 200);
      // Both replicas serve the load before the fault (on a loaded machine the first answers may take a while).
      await until(() => load.answers.some((answer) => answer.port === down) && load.answers.some((answer) => answer.port === other));
      await fault(env.cluster);
      await new Promise((resolve) => setTimeout(resolve, 700));
      const answers = await load.stop();

      expect(answers.length).toBeGreaterThan(200);
      expect(answers.filter((answer) => answer.status !== 200)).toEqual([]);
      expect(answers.some((answer) => answer.port === down)).toBe(true); // before the fault
      expect(answers.some((answer) => answer.port === other)).toBe(true);

      const host = replicaHost(env.app.app, 0);
      expect(host.down).toBe(true);
      const connects = countConnects(host);
      try {
        const during = await concurrentReads(env.app, 50);
        expect(during.map((answer) => answer.status)).toEqual(Array(50).fill(200));
        // Each read on the other replica; on a loaded machine a health check of that one may time out too,
        // and a read then falls back to the primary (counted as such): never to the replica that is down.
        expect(during.filter((answer) => answer.port !== other && !(answer.port === env.cluster.primary.port && answer.fallbacks > 0))).toEqual([]);
        expect(connects.count()).toBe(0);
      } finally {
        connects.restore();
      }

      await env.cluster.startReplica(0);
      await healthRounds(env.app.app, 2);
      expect(host.readable).toBe(true);
      const after = await concurrentReads(env.app, 20);
      expect(after.map((answer) => answer.status)).toEqual(Array(20).fill(200));
      expect(after.some((answer) => answer.port === down)).toBe(true);
    });
  });
});

describeWithFaults('a replica down at bootstrap', () => {
  const env = clusterApp('fastify', async (cluster) => {
    await cluster.stopReplica(0, 'fast');
    return { pindb: { health: FAST_HEALTH }, controllers: [ProbeController], providers: [NotesService] };
  });

  it('does not fail the app: reads go to the other replica, and the first health check marks it down', async () => {
    const [down, other] = env.replicaPorts;
    const reads = await concurrentReads(env.app, 20);
    expect(reads.map((answer) => answer.status)).toEqual(Array(20).fill(200));
    expect(new Set(reads.map((answer) => answer.port))).toEqual(new Set([other]));
    await healthRounds(env.app.app, 1);
    expect(replicaHost(env.app.app, 0).down).toBe(true);

    await env.cluster.startReplica(0);
    await healthRounds(env.app.app, 2);
    const after = await concurrentReads(env.app, 10);
    expect(after.some((answer) => answer.port === down)).toBe(true);
  });
});
