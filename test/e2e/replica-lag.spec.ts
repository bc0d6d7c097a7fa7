import { concurrentReads, FAST_HEALTH, healthRounds, replicaHost } from '../support/failover.js';
import { NotesService, ProbeController } from '../support/probe.js';
import { clusterApp } from '../support/test-app.js';
import { describeWithFaults } from '../support/test-cluster.js';

const MAX_LAG_BYTES = 256 * 1024;

describeWithFaults('lag-aware routing', () => {
  describe('a replica behind past maxLagBytes', () => {
    const env = clusterApp('express', () => ({
      pindb: { health: { ...FAST_HEALTH, maxLagBytes: MAX_LAG_BYTES } },
      controllers: [ProbeController],
      providers: [NotesService],
    }));
    afterEach(() => env.cluster.resumeReplay(1));

    it('serves no reads from the second health round after the primary wrote past the limit, until it has replayed and a check saw it', async () => {
      const [caughtUp, behind] = env.replicaPorts;
      await env.cluster.pauseReplay(1);
      await env.cluster.query('primary', 'CREATE TABLE IF NOT EXISTS ballast (payload text)');
      // About 1 MiB of WAL, four times the limit.
      await env.cluster.query('primary', 'INSERT INTO ballast SELECT repeat(md5(i::text), 32) FROM generate_series(1, 1000) AS i');
      await healthRounds(env.app.app, 2);

      const host = replicaHost(env.app.app, 1);
      expect(host.lagging).toBe(true);
      expect(host.reading!.lagBytes).toBeGreaterThan(MAX_LAG_BYTES);
      const during = await concurrentReads(env.app, 30);
      expect(during.map((answer) => answer.status)).toEqual(Array(30).fill(200));
      expect(new Set(during.map((answer) => answer.port))).toEqual(new Set([caughtUp]));

      await env.cluster.resumeReplay(1);
      await env.cluster.waitForReplay();
      await healthRounds(env.app.app, 2);
      expect(host.lagging).toBe(false);
      const after = await concurrentReads(env.app, 10);
      expect(after.some((answer) => answer.port === behind)).toBe(true);
    });
  });

  describe('an idle primary', () => {
    const env = clusterApp('express', () => ({
      pindb: { health: { ...FAST_HEALTH, maxLagSeconds: 1 } },
      controllers: [ProbeController],
      providers: [NotesService],
    }));

    it('with caught-up replicas is no lag: long after the last transaction, no replica is marked lagging and both serve reads', async () => {
      await env.cluster.waitForReplay();
      // Rounds spanning well over maxLagSeconds without a single write.
      await healthRounds(env.app.app, 8);
      for (const index of [0, 1]) {
        const host = replicaHost(env.app.app, index);
        expect(host.reading!.lagSeconds).toBe(0);
        expect(host.lagging).toBe(false);
      }
      const [lastTransactionAge] = await env.cluster.query<{ age: number }>(
        0,
        'SELECT EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp())::float8 AS age',
      );
      expect(lastTransactionAge.age).toBeGreaterThan(1);
      const reads = await concurrentReads(env.app, 10);
      expect(new Set(reads.map((answer) => answer.port))).toEqual(new Set(env.replicaPorts));
    });
  });
});
