import type { INestApplicationContext } from '@nestjs/common';
import type { ReplicaHost } from '../../lib/health/replica-host.js';
import { concurrentReads, FAST_HEALTH, healthRounds, replicaHost } from '../support/failover.js';
import { NotesService, ProbeController } from '../support/probe.js';
import { clusterApp } from '../support/test-app.js';
import { describeWithFaults } from '../support/test-cluster.js';

/**
 * maxLagSeconds 1 at a round every 400 ms ± 20 %: a replica behind since a write is past it
 * within 4 rounds. 25 rounds is far more, and still a bounded wait on the monitor, not on a clock.
 */
const ROUNDS_TO_SETTLE = 25;
const DEFAULT_MAX_LAG_BYTES = 16 * 1024 * 1024;

/** Waits round by round, at most `rounds` of them, until `done()`; returns whether it got there. */
async function untilRound(app: INestApplicationContext, done: () => boolean, rounds = ROUNDS_TO_SETTLE): Promise<boolean> {
  for (let i = 0; i < rounds && !done(); i++) await healthRounds(app, 1);
  return done();
}

// A replica whose WAL stream is cut (walreceiver stalled, network gone) replays all it received:
// by its own receive and replay positions it is caught up, while the data it serves gets older.
describeWithFaults("a replica cut off from the primary's WAL stream", () => {
  const env = clusterApp('express', () => ({
    pindb: { health: { ...FAST_HEALTH, maxLagSeconds: 1 } },
    controllers: [ProbeController],
    providers: [NotesService],
  }));
  afterEach(() => env.cluster.restoreReplicaStream(0));

  it('serves no reads once the first write it lacks is older than maxLagSeconds, though it replayed all it received; restored, it serves again', async () => {
    const [cutOff, streaming] = env.replicaPorts;
    const host: ReplicaHost = replicaHost(env.app.app, 0);
    await env.cluster.waitForReplay();
    await healthRounds(env.app.app, 1);
    expect(host.readable).toBe(true);

    await env.cluster.cutReplicaStream(0);
    // Small: far below maxLagBytes, so only the time lag can take it out.
    await env.cluster.query('primary', "INSERT INTO note (text) VALUES ('written while replica 0 is cut off')");
    expect(await untilRound(env.app.app, () => host.lagging)).toBe(true);

    expect(host.reading!.lagSeconds).toBeGreaterThan(1);
    expect(host.reading!.lagBytes).toBeLessThan(DEFAULT_MAX_LAG_BYTES);
    const [own] = await env.cluster.query<{ replayedAll: boolean; seen: string }>(
      0,
      `SELECT pg_last_wal_replay_lsn() >= pg_last_wal_receive_lsn() AS "replayedAll",
        (SELECT count(*) FROM note WHERE text = 'written while replica 0 is cut off') AS seen`,
    );
    expect(own).toEqual({ replayedAll: true, seen: '0' });
    const during = await concurrentReads(env.app, 30);
    expect(during.map((answer) => answer.status)).toEqual(Array(30).fill(200));
    expect(new Set(during.map((answer) => answer.port))).toEqual(new Set([streaming]));

    await env.cluster.restoreReplicaStream(0);
    await env.cluster.waitForReplay();
    expect(await untilRound(env.app.app, () => !host.lagging)).toBe(true);
    expect(host.reading!.lagSeconds).toBe(0);
    const after = await concurrentReads(env.app, 20);
    expect(after.some((answer) => answer.port === cutOff)).toBe(true);
  });
});
