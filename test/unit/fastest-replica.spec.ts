import { EXPLORE_AFTER_MS, HostList } from '../../lib/health/host-list.js';
import { ReplicaHost } from '../../lib/health/replica-host.js';
import { LATENCY_DECAY_MS, LATENCY_MIN_WEIGHT, ReplicaLatency } from '../../lib/health/replica-latency.js';
import type { ReplicaPlacement } from '../../lib/options/server-options.js';

const NAMES = 'abcdef';
const name = (host: ReplicaHost | undefined) => (host ? NAMES[host.index] : '-');

describe('ReplicaLatency', () => {
  it('knows nothing before the first statement, which then sets the average', () => {
    const latency = new ReplicaLatency();
    expect(latency.averageMs).toBeUndefined();
    latency.record(12, 1000);
    expect(latency.averageMs).toBe(12);
  });

  it.each<[string, number, number]>([
    // From an average of 10 ms, a statement of 20 ms, `gap` ms after the one before:
    ['at the same instant: the least weight', 0, 10 + LATENCY_MIN_WEIGHT * 10],
    ['10 ms later: still the least weight', 10, 10 + LATENCY_MIN_WEIGHT * 10],
    ['one decay time later: 1 - 1/e', LATENCY_DECAY_MS, 10 + (1 - Math.exp(-1)) * 10],
    ['ten decay times later: all but the new one forgotten', 10 * LATENCY_DECAY_MS, 20],
  ])('a sample weighs more the longer since the last: %s', (_, gap, expected) => {
    const latency = new ReplicaLatency();
    latency.record(10, 5000);
    latency.record(20, 5000 + gap);
    expect(latency.averageMs).toBeCloseTo(expected, 3);
  });

  it('follows a replica that slows down, and one that recovers', () => {
    const latency = new ReplicaLatency();
    let now = 0;
    for (let i = 0; i < 50; i++) latency.record(1, (now += 5));
    expect(latency.averageMs).toBeCloseTo(1, 5);
    for (let i = 0; i < 50; i++) latency.record(40, (now += 5));
    expect(latency.averageMs).toBeGreaterThan(39);
    // Explored once a second: two fast answers bring it most of the way back.
    latency.record(1, (now += 1000));
    latency.record(1, now + 1000);
    expect(latency.averageMs).toBeLessThan(7);
  });

  it.each([NaN, -1, Infinity])('ignores a sample of %p ms', (ms) => {
    const latency = new ReplicaLatency();
    latency.record(ms, 0);
    expect(latency.averageMs).toBeUndefined();
    latency.record(5, 10);
    latency.record(ms, 20);
    expect(latency.averageMs).toBe(5);
  });
});

describe("replicaSelection 'fastest'", () => {
  /** Hosts with these placements, a fake clock, and a way to set each host's average. */
  const setup = (placements: ReplicaPlacement[], zone?: string) => {
    const hosts = placements.map((placement, i) => new ReplicaHost(i, `127.0.0.1:${5433 + i}`, undefined, placement));
    const clock = { now: 0 };
    const list = new HostList(hosts, 'fastest', { zone, now: () => clock.now });
    const measure = (ms: number[]) => hosts.forEach((host, i) => ms[i] !== undefined && host.latency.record(ms[i], clock.now));
    const picks = (n: number, eligible?: (host: ReplicaHost) => boolean, stepMs = 1) =>
      Array.from({ length: n }, () => {
        clock.now += stepMs;
        return name(list.next(eligible));
      }).join(' ');
    return { hosts, clock, list, measure, picks };
  };

  it('tries each replica once first, then keeps to the lowest average', () => {
    const { measure, picks } = setup([{}, {}, {}]);
    expect(picks(3)).toBe('a b c');
    measure([30, 5, 12]);
    expect(picks(5)).toBe('b b b b b');
  });

  it('a replica not measured yet counts as the fastest, so it is measured', () => {
    const { measure, picks } = setup([{}, {}]);
    expect(picks(2)).toBe('a b');
    measure([5]);
    expect(picks(3)).toBe('b b b');
  });

  it.each<[string, number[], string]>([
    ['the lowest average wins', [8, 3, 20], 'b'],
    ['whatever the order', [3, 8, 20], 'a'],
    ['the last too', [20, 8, 3], 'c'],
  ])('%s', (_, averages, expected) => {
    const { measure, picks } = setup([{}, {}, {}]);
    picks(3);
    measure(averages);
    expect(new Set(picks(10).split(' '))).toEqual(new Set([expected]));
  });

  it('ties go in turn', () => {
    const { measure, picks } = setup([{}, {}]);
    picks(2);
    measure([4, 4]);
    expect(picks(4)).toBe('a b a b');
  });

  it(`explores: a replica no read went to for ${EXPLORE_AFTER_MS} ms gets one read, then waits again`, () => {
    const { clock, measure, picks } = setup([{}, {}]);
    picks(2);
    measure([1, 40]);
    const start = clock.now;
    // 10 ms a read: b (picked at start - 9) is due again after EXPLORE_AFTER_MS.
    const seen = picks(250, undefined, 10).split(' ');
    const explored = seen.map((host, i) => (host === 'b' ? start + (i + 1) * 10 : -1)).filter((at) => at >= 0);
    expect(explored.length).toBe(2);
    expect(explored[1] - explored[0]).toBeGreaterThanOrEqual(EXPLORE_AFTER_MS);
    expect(seen.filter((host) => host === 'a').length).toBe(248);
  });

  it('the replica picked longest ago is explored first, one at a time', () => {
    const { clock, measure, picks } = setup([{}, {}, {}]);
    picks(3);
    measure([1, 40, 50]);
    expect(picks(2)).toBe('a a');
    clock.now += EXPLORE_AFTER_MS;
    // b and c are both due: b was picked first, so it goes first; c on the next read; then a again.
    expect(picks(3)).toBe('b c a');
  });

  it('a once-slow replica that recovers gets the reads back after its explorations measure it', () => {
    const { clock, hosts, list, measure } = setup([{}, {}]);
    list.next();
    list.next();
    measure([1, 40]);
    const recordEach = (ms: number[]) => {
      for (let i = 0; i < 400; i++) {
        clock.now += 10;
        const host = list.next()!;
        host.latency.record(ms[host.index], clock.now);
      }
    };
    // a slows down to 40 ms, b is fast again: b's explorations measure it, and it takes over.
    recordEach([40, 1]);
    expect(hosts[1].latency.averageMs!).toBeLessThan(hosts[0].latency.averageMs!);
    clock.now += 10;
    expect(name(list.next())).toBe('b');
  });

  it('skips a replica not eligible for this read, however fast', () => {
    const { measure, picks } = setup([{}, {}, {}]);
    picks(3);
    measure([1, 5, 9]);
    expect(picks(3, (host) => host.index !== 0)).toBe('b b b');
    expect(picks(1, () => false)).toBe('-');
  });

  it('weights aside: a replica of weight 5 gets no more reads for it', () => {
    const { measure, picks } = setup([{ weight: 5 }, { weight: 1 }]);
    picks(2);
    measure([9, 2]);
    expect(picks(4)).toBe('b b b b');
  });

  it('weight 0 still means a standby: read only when no other replica may serve', () => {
    const { measure, picks } = setup([{ weight: 0 }, { weight: 1 }]);
    picks(2);
    measure([1, 30]);
    expect(picks(3)).toBe('b b b');
    expect(picks(2, (host) => host.index === 0)).toBe('a a');
  });

  it('the app zone first, however slow; the fastest within it', () => {
    const { measure, picks } = setup([{ zone: 'b' }, { zone: 'a' }, { zone: 'a' }], 'a');
    picks(3);
    measure([1, 30, 20]);
    expect(picks(3)).toBe('c c c');
    // No replica of zone a may serve: the other zone's.
    expect(picks(2, (host) => host.zone !== 'a')).toBe('a a');
  });
});
