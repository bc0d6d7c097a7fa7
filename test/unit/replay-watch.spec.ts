import { ReplicaHost } from '../../lib/health/replica-host.js';
import { ReplayReading, ReplayWatch } from '../../lib/routing/replay-watch.js';

/**
 * Replicas whose replay positions the test moves: each read answers the position set for it (or
 * never answers, or fails), and is counted. The watch asks them through the same interface as
 * the set router's replicas.
 */
class Replicas {
  readonly hosts = [new ReplicaHost(0, 'r0:5432'), new ReplicaHost(1, 'r1:5432')];
  readonly positions = new Map<ReplicaHost, bigint>();
  readonly reads = new Map<ReplicaHost, number>();
  readonly silent = new Set<ReplicaHost>();
  readonly failing = new Set<ReplicaHost>();
  readable = [...this.hosts];
  /** Called at each read, before it answers: the test's way to move replay on from poll to poll. */
  onRead?: (host: ReplicaHost, reads: number) => void;

  source() {
    return {
      readable: () => this.readable,
      read: (host: ReplicaHost): Promise<ReplayReading | undefined> => {
        const reads = (this.reads.get(host) ?? 0) + 1;
        this.reads.set(host, reads);
        if (this.silent.has(host)) return new Promise(() => undefined);
        if (this.failing.has(host)) return Promise.reject(new Error('connection refused'));
        this.onRead?.(host, reads);
        return Promise.resolve({ lsn: this.positions.get(host), version: 180004 });
      },
    };
  }

  total(host: ReplicaHost): number {
    return this.reads.get(host) ?? 0;
  }
}

/** A pause that records the delays asked for and waits next to nothing, so that polls come fast and are counted exactly. */
function recordingPause() {
  const delays: number[] = [];
  const pause = (ms: number) => {
    delays.push(ms);
    return new Promise<void>((resolve) => setTimeout(resolve, 1));
  };
  return { delays, pause };
}

const TIMING = { firstDelayMs: 2, maxDelayMs: 20, growth: 2 };

describe('ReplayWatch: one shared poll loop per set', () => {
  it('200 waiters share one loop: each poll asks each replica once, whatever the number of waiters', async () => {
    const replicas = new Replicas();
    const { pause } = recordingPause();
    const watch = new ReplayWatch(replicas.source(), TIMING, pause);
    // Replica 0 has replayed the position by its 4th read.
    replicas.onRead = (host, reads) => {
      if (host === replicas.hosts[0] && reads === 4) replicas.positions.set(host, 100n);
    };
    const waits = Array.from({ length: 200 }, () => watch.someReplayed(100n, 10_000));
    expect(watch.waiting).toBe(200);
    const results = await Promise.all(waits);

    expect(results.every((positions) => positions?.get('r0:5432') === 100n)).toBe(true);
    expect(watch.loops).toBe(1);
    expect(watch.polls).toBe(4);
    expect(replicas.total(replicas.hosts[0])).toBe(4);
    expect(replicas.total(replicas.hosts[1])).toBe(4);
    expect(watch.waiting).toBe(0);
  });

  it('settles each waiter at the first poll that finds its position, several per poll', async () => {
    const replicas = new Replicas();
    const watch = new ReplayWatch(replicas.source(), TIMING, recordingPause().pause);
    // Replica 1 replays 10 more per read: 10, 20, 30, …
    replicas.onRead = (host, reads) => {
      if (host === replicas.hosts[1]) replicas.positions.set(host, BigInt(reads * 10));
    };
    const settledAt: Record<string, number> = {};
    const wanted = [10n, 10n, 20n, 30n, 30n, 30n];
    await Promise.all(wanted.map((lsn, i) => watch.someReplayed(lsn, 10_000).then(() => (settledAt[`${i}:${lsn}`] = watch.polls))));
    expect(settledAt).toEqual({ '0:10': 1, '1:10': 1, '2:20': 2, '3:30': 3, '4:30': 3, '5:30': 3 });
    expect(watch.loops).toBe(1);
  });

  it('backs off from firstDelayMs, doubling, up to maxDelayMs', async () => {
    const replicas = new Replicas();
    const { delays, pause } = recordingPause();
    const watch = new ReplayWatch(replicas.source(), TIMING, pause);
    replicas.onRead = (host, reads) => {
      if (host === replicas.hosts[0] && reads === 7) replicas.positions.set(host, 5n);
    };
    await watch.someReplayed(5n, 10_000);
    // Never past the first deadline: these are all well inside it.
    expect(delays).toEqual([2, 4, 8, 16, 20, 20, 20]);
  });

  it('settles a waiter whose replicas stay behind at its deadline, and the loop stops when nobody waits', async () => {
    const replicas = new Replicas();
    const watch = new ReplayWatch(replicas.source(), TIMING);
    const t0 = performance.now();
    expect(await watch.someReplayed(100n, 60)).toBeUndefined();
    expect(performance.now() - t0).toBeGreaterThanOrEqual(55);
    expect(watch.waiting).toBe(0);
    const polls = watch.polls;
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(watch.polls).toBe(polls); // stopped: an idle set sends nothing

    // The next wait starts a loop of its own.
    replicas.positions.set(replicas.hosts[0], 100n);
    expect(await watch.someReplayed(100n, 1000)).toBeDefined();
    expect(watch.loops).toBe(2);
  });

  it('a short deadline is kept while a longer waiter goes on waiting on the same loop', async () => {
    const replicas = new Replicas();
    const watch = new ReplayWatch(replicas.source(), TIMING);
    const long = watch.someReplayed(100n, 5000);
    expect(await watch.someReplayed(100n, 40)).toBeUndefined();
    expect(watch.waiting).toBe(1);
    replicas.positions.set(replicas.hosts[1], 150n);
    expect((await long)?.get('r1:5432')).toBe(150n);
    expect(watch.loops).toBe(1);
  });

  it('someReplayed: only an eligible replica counts (not the one a read just failed on)', async () => {
    const replicas = new Replicas();
    const watch = new ReplayWatch(replicas.source(), TIMING, recordingPause().pause);
    const [r0, r1] = replicas.hosts;
    replicas.positions.set(r0, 100n);
    replicas.onRead = (host, reads) => {
      if (host === r1 && reads === 3) replicas.positions.set(r1, 100n);
    };
    await watch.someReplayed(100n, 10_000, (host) => host !== r0);
    expect(watch.polls).toBe(3);
  });

  it('everyReplayed: true once every readable replica has replayed the position, false at the deadline', async () => {
    const replicas = new Replicas();
    const watch = new ReplayWatch(replicas.source(), TIMING, recordingPause().pause);
    const [r0, r1] = replicas.hosts;
    replicas.positions.set(r0, 100n);
    replicas.onRead = (host, reads) => {
      if (host === r1 && reads === 2) replicas.positions.set(r1, 100n);
    };
    expect(await watch.everyReplayed(100n, 10_000)).toBe(true);
    expect(watch.polls).toBe(2);

    const slow = new ReplayWatch(replicas.source(), TIMING);
    expect(await slow.everyReplayed(200n, 50)).toBe(false);
  });

  it('with no readable replica: someReplayed gives up and everyReplayed succeeds at once, without a poll', async () => {
    const replicas = new Replicas();
    replicas.readable = [];
    const watch = new ReplayWatch(replicas.source(), TIMING);
    expect(await watch.someReplayed(1n, 10_000)).toBeUndefined();
    expect(await watch.everyReplayed(1n, 10_000)).toBe(true);
    expect(watch.loops).toBe(0);
  });

  it("everyReplayed takes the health monitor's last readings when they already say so, and asks nothing", async () => {
    const replicas = new Replicas();
    for (const host of replicas.hosts) host.reading = { inRecovery: true, replayLsn: 500n, at: Date.now(), lagSeconds: 0 };
    const watch = new ReplayWatch(replicas.source(), TIMING);
    expect(await watch.everyReplayed(400n, 10_000)).toBe(true);
    expect(watch.polls).toBe(0);
  });

  it('a replica that never answers holds no one past their deadline, and is asked once while its question is out', async () => {
    const replicas = new Replicas();
    const [r0, r1] = replicas.hosts;
    replicas.silent.add(r0);
    const watch = new ReplayWatch(replicas.source(), TIMING);
    const t0 = performance.now();
    // A deadline long enough for several polls of r1 even on a loaded machine (they back off to 20 ms).
    expect(await watch.someReplayed(100n, 600)).toBeUndefined();
    expect(performance.now() - t0).toBeLessThan(5000);
    expect(replicas.total(r0)).toBe(1);
    expect(replicas.total(r1)).toBeGreaterThan(1);
  });

  it('a replica that never answers does not hold back a waiter that another replica satisfies', async () => {
    const replicas = new Replicas();
    const [r0, r1] = replicas.hosts;
    replicas.silent.add(r0);
    replicas.positions.set(r1, 50n);
    // r1 catches up at its third read: the waiter must see it then, not at its deadline.
    replicas.onRead = (host, reads) => {
      if (host === r1 && reads >= 3) replicas.positions.set(r1, 200n);
    };
    const watch = new ReplayWatch(replicas.source(), TIMING);
    const t0 = performance.now();
    const found = await watch.someReplayed(100n, 60_000);
    expect(found?.get('r1:5432')).toBe(200n);
    expect(performance.now() - t0).toBeLessThan(30_000);
    expect(replicas.total(r0)).toBe(1);
  });

  it('a replica whose read fails has not caught up; the other one serves', async () => {
    const replicas = new Replicas();
    const [r0, r1] = replicas.hosts;
    replicas.failing.add(r0);
    replicas.positions.set(r0, 100n);
    replicas.onRead = (host, reads) => {
      if (host === r1 && reads === 2) replicas.positions.set(r1, 100n);
    };
    const watch = new ReplayWatch(replicas.source(), TIMING, recordingPause().pause);
    const positions = await watch.someReplayed(100n, 10_000);
    expect(positions?.has('r0:5432')).toBe(false);
    expect(positions?.get('r1:5432')).toBe(100n);
  });

  it("learns each replica's server_version_num from its polls", async () => {
    const replicas = new Replicas();
    replicas.positions.set(replicas.hosts[0], 1n);
    const watch = new ReplayWatch(replicas.source(), TIMING, recordingPause().pause);
    await watch.someReplayed(1n, 10_000);
    expect(Object.fromEntries(watch.versions)).toEqual({ 'r0:5432': 180004, 'r1:5432': 180004 });
  });
});
