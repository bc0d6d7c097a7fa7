import { concurrentReads, countConnects, FAST_HEALTH, healthRounds, readLoad, replicaHost } from '../support/failover.js';
import { NotesService, ProbeController } from '../support/probe.js';
import { until } from '../support/token-cookies.js';
import { clusterApp } from '../support/test-app.js';
import { describeWithFaults } from '../support/test-cluster.js';

// A frozen server (SIGSTOP) is the worst case: the kernel still accepts its TCP connections and
// keeps the old ones alive, so nothing fails: everything waits.
describeWithFaults('a frozen replica (freezeReplica) under load', () => {
  const env = clusterApp('fastify', () => ({
    pindb: { health: FAST_HEALTH },
    controllers: [ProbeController],
    providers: [NotesService],
  }));
  afterEach(() => env.cluster.thawReplica(0));

  it('200 concurrent readers all get answers while it is still frozen; only the first are retried; it gets no connection once marked down; thawed, it serves again', async () => {
    const [frozen, other] = env.replicaPorts;
    const load = readLoad(env.app, 200);
    // Both replicas serve the load before the fault (on a loaded machine the first answers may take a while).
    await until(() => load.answers.some((answer) => answer.port === frozen) && load.answers.some((answer) => answer.port === other));
    await env.cluster.freezeReplica(0);
    await new Promise((resolve) => setTimeout(resolve, FAST_HEALTH.intervalMs + FAST_HEALTH.connectTimeoutMs));
    // Still frozen: every loop must have had its answer, or stop() would wait for the thaw.
    const answers = await load.stop();

    expect(answers.filter((answer) => answer.status !== 200)).toEqual([]);
    const host = replicaHost(env.app.app, 0);
    expect(host.down).toBe(true);
    const retried = answers.filter((answer) => answer.retries > 0);
    expect(retried.length).toBeGreaterThan(0); // some reads were waiting on it when it froze
    expect(retried.length).toBeLessThanOrEqual(200); // at most the ones in flight: one per reader
    expect(answers.length).toBeGreaterThan(retried.length);

    const connects = countConnects(host);
    try {
      const during = await concurrentReads(env.app, 50);
      expect(during.map((answer) => answer.status)).toEqual(Array(50).fill(200));
      // Each read on the other replica; on a loaded machine a health check of that one may time out too,
      // and a read then falls back to the primary (counted as such): never to the replica that is down.
      expect(during.filter((answer) => answer.port !== other && !(answer.port === env.cluster.primary.port && answer.fallbacks > 0))).toEqual([]);
      expect(during.filter((answer) => answer.retries > 0)).toEqual([]);
      expect(connects.count()).toBe(0);
    } finally {
      connects.restore();
    }

    await env.cluster.thawReplica(0);
    await healthRounds(env.app.app, 2);
    expect(host.readable).toBe(true);
    const after = await concurrentReads(env.app, 20);
    expect(after.some((answer) => answer.port === frozen)).toBe(true);
  });
});
