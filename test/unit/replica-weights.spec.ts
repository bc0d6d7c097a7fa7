import { HostList } from '../../lib/health/host-list.js';
import { ReplicaHost } from '../../lib/health/replica-host.js';
import type { ReplicaSelection } from '../../lib/options/pin-db-module-options.js';
import type { ReplicaPlacement } from '../../lib/options/server-options.js';

/** Hosts a, b, c, … with these weights and zones. */
const hosts = (placements: ReplicaPlacement[]) => placements.map((placement, i) => new ReplicaHost(i, `127.0.0.1:${5433 + i}`, undefined, placement));
const weighted = (...weights: number[]) => hosts(weights.map((weight) => ({ weight })));
const NAMES = 'abcdef';
const name = (host: ReplicaHost | undefined) => (host ? NAMES[host.index] : '-');
const picks = (list: HostList, n: number, eligible?: (host: ReplicaHost) => boolean) => Array.from({ length: n }, () => name(list.next(eligible))).join(' ');
const counts = (list: HostList, n: number, eligible?: (host: ReplicaHost) => boolean) => {
  const seen: Record<string, number> = {};
  for (let i = 0; i < n; i++) {
    const picked = name(list.next(eligible));
    seen[picked] = (seen[picked] ?? 0) + 1;
  }
  return seen;
};
/** A deterministic [0, 1) source (mulberry32), so the random choices are the same at every run. */
const seeded = (seed: number) => () => {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};
/** Pretends `busy` connections are checked out of the host's pool. */
const setBusy = (host: ReplicaHost, busy: number) => host.attach({ totalCount: busy + 2, idleCount: 2 } as never);

describe('replica weights: smooth weighted round robin', () => {
  it.each<[string, number[], number, string]>([
    ["nginx's example: 5, 1, 1 interleaves", [5, 1, 1], 7, 'a a b a c a a'],
    ['3:1', [3, 1], 8, 'a a b a a a b a'],
    ['2, 1, 1', [2, 1, 1], 8, 'a b c a a b c a'],
    ['fractions are shares too: 1.5 and 0.5 is 3:1', [1.5, 0.5], 8, 'a a b a a a b a'],
    ['a heavier host later in the list', [1, 3], 4, 'b a b b'],
  ])('%s', (_, weights, n, expected) => {
    expect(picks(new HostList(weighted(...weights), 'round-robin'), n)).toBe(expected);
  });

  it('splits exactly by weight over many reads', () => {
    expect(counts(new HostList(weighted(3, 1), 'round-robin'), 2000)).toEqual({ a: 1500, b: 500 });
    expect(counts(new HostList(weighted(5, 3, 2), 'round-robin'), 1000)).toEqual({ a: 500, b: 300, c: 200 });
  });

  it('a host not eligible drops out, and the others share in proportion', () => {
    const list = new HostList(weighted(3, 1, 2), 'round-robin');
    expect(counts(list, 500, (host) => host.index !== 1)).toEqual({ a: 300, c: 200 });
    expect(list.next(() => false)).toBeUndefined();
  });
});

describe('replica weights: weighted random', () => {
  it('takes the host whose share of the running total the draws land in (one draw per candidate)', () => {
    // Candidates a (3) then b (1): a is taken (3 of 3), then b replaces it if draw * 4 < 1.
    const draws = [0.99, 0.2, 0.5, 0.3, 0.1, 0.24];
    const list = new HostList(weighted(3, 1), 'random', { random: () => draws.shift()! });
    expect(picks(list, 3)).toBe('b a b');
  });

  it.each<[number[], Record<string, number>]>([
    [[3, 1], { a: 0.75, b: 0.25 }],
    [[1, 2, 1], { a: 0.25, b: 0.5, c: 0.25 }],
  ])('weights %j split about %j', (weights, expected) => {
    const n = 20_000;
    const seen = counts(new HostList(weighted(...weights), 'random', { random: seeded(7) }), n);
    for (const [host, share] of Object.entries(expected)) expect(Math.abs(seen[host] / n - share)).toBeLessThan(0.02);
  });

  it('skips a host not eligible: the others share in proportion', () => {
    const n = 10_000;
    const seen = counts(new HostList(weighted(3, 5, 1), 'random', { random: seeded(11) }), n, (host) => host.index !== 1);
    expect(seen.b).toBeUndefined();
    expect(Math.abs(seen.a / n - 0.75)).toBeLessThan(0.02);
  });
});

describe('replica weights: least-busy', () => {
  it.each<[string, number[], number[], string]>([
    ['fewest connections per weight: 2 of weight 3 beats 1 of weight 1', [3, 1], [2, 1], 'a'],
    ['fewest connections per weight: 4 of weight 3 loses to 1 of weight 1', [3, 1], [4, 1], 'b'],
    ['an idle host beats any busy one', [1, 5], [0, 1], 'a'],
  ])('%s', (_, weights, busy, expected) => {
    const list = hosts(weights.map((weight) => ({ weight })));
    list.forEach((host, i) => setBusy(host, busy[i]));
    expect(picks(new HostList(list, 'least-busy'), 3)).toBe([expected, expected, expected].join(' '));
  });

  it('ties (an idle set) go by smooth weighted round robin, so idle reads still split by weight', () => {
    const list = weighted(3, 1);
    list.forEach((host) => setBusy(host, 0));
    expect(counts(new HostList(list, 'least-busy'), 400)).toEqual({ a: 300, b: 100 });
  });

  it('the round robin among ties leaves out the busier hosts', () => {
    const list = weighted(2, 1, 1);
    [0, 0, 3].forEach((busy, i) => setBusy(list[i], busy));
    expect(counts(new HostList(list, 'least-busy'), 300)).toEqual({ a: 200, b: 100 });
  });
});

describe('replica weights: weight 0 is a standby', () => {
  it.each<ReplicaSelection>(['round-robin', 'random', 'least-busy', 'fastest'])('%s reads a standby only when no host of weight > 0 may serve', (selection) => {
    const list = new HostList(weighted(0, 1, 0), selection, { random: seeded(3) });
    expect(new Set(picks(list, 20).split(' '))).toEqual(new Set(['b']));
    // b is down: the standbys share the reads evenly.
    expect(new Set(picks(list, 20, (host) => host.index !== 1).split(' '))).toEqual(new Set(['a', 'c']));
    expect(list.next((host) => host.index === 0)?.index).toBe(0);
  });

  it('every replica a standby: they share evenly, as weight 1 would', () => {
    expect(picks(new HostList(weighted(0, 0), 'round-robin'), 4)).toBe('a b a b');
  });
});

describe('replica zones', () => {
  const zoned = () => hosts([{ zone: 'b' }, { zone: 'a' }, {}, { zone: 'a', weight: 3 }]);

  it.each<ReplicaSelection>(['round-robin', 'random', 'least-busy', 'fastest'])('%s: the app zone’s replicas serve every read while one may', (selection) => {
    const list = new HostList(zoned(), selection, { zone: 'a', random: seeded(5) });
    expect(new Set(picks(list, 40).split(' '))).toEqual(new Set(['b', 'd']));
    // d is behind this read's token: b alone of zone a.
    expect(new Set(picks(list, 10, (host) => host.index !== 3).split(' '))).toEqual(new Set(['b']));
    // No replica of zone a may serve: the others (another zone, or none) do.
    expect(new Set(picks(list, 40, (host) => host.zone !== 'a').split(' '))).toEqual(new Set(['a', 'c']));
    expect(list.next((host) => host.index === 2)?.index).toBe(2);
  });

  it('weights still split the reads within the zone', () => {
    expect(counts(new HostList(zoned(), 'round-robin', { zone: 'a' }), 400)).toEqual({ b: 100, d: 300 });
  });

  it('the replicas of the zone share evenly (not as the plain round robin does around skipped hosts)', () => {
    const list = hosts([{ zone: 'a' }, { zone: 'b' }, { zone: 'a' }]);
    expect(picks(new HostList(list, 'round-robin', { zone: 'a' }), 6)).toBe('a c a c a c');
  });

  it('without the module zone, zones are ignored', () => {
    expect(picks(new HostList(zoned(), 'round-robin'), 6)).toBe('d a b d c d');
    const even = hosts([{ zone: 'b' }, { zone: 'a' }, {}]);
    expect(picks(new HostList(even, 'round-robin'), 6)).toBe('a b c a b c');
  });

  it('a zone no replica is in: every replica is another zone’s, and they share as usual', () => {
    expect(picks(new HostList(hosts([{ zone: 'b' }, {}]), 'round-robin', { zone: 'a' }), 4)).toBe('a b a b');
  });

  it('a standby of the app zone comes after every other replica of weight > 0', () => {
    const list = new HostList(hosts([{ zone: 'a', weight: 0 }, { zone: 'b' }, { zone: 'b', weight: 0 }]), 'round-robin', { zone: 'a' });
    expect(picks(list, 2)).toBe('b b');
    expect(picks(list, 2, (host) => host.index !== 1)).toBe('a a');
    expect(picks(list, 2, (host) => host.index === 2)).toBe('c c');
  });
});

describe('replica weights: equal weights keep the plain algorithms', () => {
  it('round-robin with every weight 2 (and every replica in the app zone) is the plain rotation, turns passing on', () => {
    const list = new HostList(hosts([0, 1, 2].map(() => ({ weight: 2, zone: 'a' }))), 'round-robin', { zone: 'a' });
    expect(picks(list, 6)).toBe('a b c a b c');
    // The plain rotation: an ineligible host's turn goes to the next one.
    expect(picks(list, 3, (host) => host.index !== 1)).toBe('a c c');
  });

  it('random with equal weights starts at floor(random × count) and takes the first eligible from there', () => {
    const draws = [0.1, 0.5, 0.9];
    const list = new HostList(weighted(1, 1, 1), 'random', { random: () => draws.shift()! });
    expect(picks(list, 3, (host) => host.index !== 1)).toBe('a c c');
  });
});
