import type { ReplicaSelection } from '../options/pin-db-module-options.js';
import { ReplicaHost } from './replica-host.js';

/** 'fastest': a replica no read was sent to for this long (ms) gets the next one, so that it is measured again. */
export const EXPLORE_AFTER_MS = 1000;

export interface HostListOptions {
  /** This app instance's zone: replicas of it come first. Default: none (zones ignored) */
  zone?: string;
  /** A number in [0, 1), as Math.random (for 'random'). Default: Math.random */
  random?: () => number;
  /** A monotonic clock in ms (for 'fastest'). Default: performance.now */
  now?: () => number;
  /** Default: EXPLORE_AFTER_MS */
  exploreAfterMs?: number;
}

/** A host's tier, from its zone and weight: the first tier with a host eligible for a read serves it. */
const OTHER_ZONE = 1;
const STANDBY = 2;

const EVERY_HOST = (): boolean => true;

/**
 * A set's replicas, and the choice of one for the next read. `eligible` is where health and
 * read-your-writes tokens plug in: a host it rejects is skipped. This runs for every read, so it
 * walks the hosts in place rather than building a list of candidates; the little state the
 * weighted choices keep per host is in typed arrays made once.
 *
 * The hosts fall in tiers, tried in order: the app's own zone (module option `zone`), then the
 * other zones (or none), then the standbys (weight 0) of the app's zone, then the other standbys.
 * Within a tier the hosts share the reads by weight:
 * - 'round-robin': nginx's smooth weighted round robin (weights 5, 1, 1 give a b a c a a a, not
 *   five a's in a row), deterministic;
 * - 'random': weighted random;
 * - 'least-busy': fewest checked-out connections per unit of weight (nginx's least_conn), ties by
 *   smooth weighted round robin, so that an idle set still splits by weight;
 * - 'fastest': the lowest recent statement time (ReplicaLatency), weights aside; a host not
 *   picked for `exploreAfterMs` gets the next read, so a recovered replica is measured again.
 * With one tier and equal weights (every replica of weight 1 and no zone, as before weights and
 * zones existed) the three first are the plain algorithms of `nextPlain`, unchanged.
 */
export class HostList {
  private cursor = 0;
  /** Each host's share within its tier: its weight, or 1 for a standby (standbys share evenly). */
  private readonly share: Float64Array;
  private readonly tier: Uint8Array;
  /** The tiers some host is in, in the order they are tried. */
  private readonly tiers: readonly number[];
  /** Smooth weighted round robin: each host's current weight. */
  private readonly current: Float64Array;
  /** least-busy: each candidate's load in this pick, and whether it is a candidate. */
  private readonly load: Float64Array;
  private readonly marked: Uint8Array;
  /** fastest: when each host was last picked (-Infinity: never). */
  private readonly pickedAt: Float64Array;
  /** One tier, equal shares, not 'fastest': the plain algorithms. */
  private readonly plain: boolean;
  private readonly random: () => number;
  private readonly now: () => number;
  private readonly exploreAfterMs: number;

  constructor(
    readonly hosts: readonly ReplicaHost[],
    private readonly selection: ReplicaSelection,
    private readonly listOptions: HostListOptions = {},
  ) {
    const { zone, random = Math.random, now = () => performance.now(), exploreAfterMs = EXPLORE_AFTER_MS } = listOptions;
    const count = hosts.length;
    this.share = Float64Array.from(hosts, (host) => (host.weight > 0 ? host.weight : 1));
    this.tier = Uint8Array.from(hosts, (host) => (host.weight === 0 ? STANDBY : 0) + (zone !== undefined && host.zone !== zone ? OTHER_ZONE : 0));
    this.tiers = [...new Set(this.tier)].sort((a, b) => a - b);
    this.current = new Float64Array(count);
    this.load = new Float64Array(count);
    this.marked = new Uint8Array(count);
    this.pickedAt = new Float64Array(count).fill(-Infinity);
    this.plain = selection !== 'fastest' && this.tiers.length <= 1 && this.share.every((share) => share === this.share[0]);
    this.random = random;
    this.now = now;
    this.exploreAfterMs = exploreAfterMs;
  }

  get size(): number {
    return this.hosts.length;
  }

  /**
   * The same choice over other hosts (replicas discovered or gone): a new list, since the typed
   * arrays are sized and tiered once. The hosts it keeps are the same objects, with their state,
   * pools and latency; the round-robin and exploration state starts afresh.
   */
  withHosts(hosts: readonly ReplicaHost[]): HostList {
    return new HostList(hosts, this.selection, this.listOptions);
  }

  next(eligible: (host: ReplicaHost) => boolean = EVERY_HOST): ReplicaHost | undefined {
    if (this.plain) return this.nextPlain(eligible);
    const tiers = this.tiers;
    for (let t = 0; t < tiers.length; t++) {
      const index = this.pick(tiers[t], eligible);
      if (index >= 0) return this.hosts[index];
    }
    return undefined;
  }

  /** Equal weights, one tier. */
  private nextPlain(eligible: (host: ReplicaHost) => boolean): ReplicaHost | undefined {
    const count = this.hosts.length;
    // Round robin starts where the last pick left off; random starts anywhere. Either way the
    // first eligible host from there wins, so an ineligible host's turn passes to the next one.
    const start = this.selection === 'random' ? Math.floor(this.random() * count) : this.cursor++;
    let best: ReplicaHost | undefined;
    for (let i = 0; i < count; i++) {
      const host = this.hosts[(start + i) % count];
      if (!eligible(host)) continue;
      if (this.selection !== 'least-busy') return host;
      // Fewest checked-out connections; ties keep the round-robin order, so an idle set still spreads its reads.
      if (!best || host.busy() < best.busy()) best = host;
    }
    return best;
  }

  /** The index of the host of `tier` that serves the read, or -1 when none of the tier is eligible. */
  private pick(tier: number, eligible: (host: ReplicaHost) => boolean): number {
    switch (this.selection) {
      case 'fastest':
        return this.fastest(tier, eligible);
      case 'random':
        return this.weightedRandom(tier, eligible);
      case 'least-busy':
        return this.leastBusy(tier, eligible);
      default:
        return this.smooth(tier, eligible, false);
    }
  }

  /**
   * nginx's smooth weighted round robin: each candidate's current weight grows by its share, the
   * highest wins and gives back the candidates' total. Candidates: the eligible hosts of `tier`,
   * or (`amongMarked`) those leastBusy marked.
   */
  private smooth(tier: number, eligible: (host: ReplicaHost) => boolean, amongMarked: boolean): number {
    const { hosts, share, current } = this;
    let total = 0;
    let best = -1;
    for (let i = 0; i < hosts.length; i++) {
      if (amongMarked ? this.marked[i] === 0 : this.tier[i] !== tier || !eligible(hosts[i])) continue;
      current[i] += share[i];
      total += share[i];
      if (best < 0 || current[i] > current[best]) best = i;
    }
    if (best >= 0) current[best] -= total;
    return best;
  }

  /** One pass (weighted reservoir sampling): each candidate replaces the pick so far with chance share / total so far. */
  private weightedRandom(tier: number, eligible: (host: ReplicaHost) => boolean): number {
    const { hosts, share } = this;
    let total = 0;
    let chosen = -1;
    for (let i = 0; i < hosts.length; i++) {
      if (this.tier[i] !== tier || !eligible(hosts[i])) continue;
      total += share[i];
      if (this.random() * total < share[i]) chosen = i;
    }
    return chosen;
  }

  /** Fewest checked-out connections per unit of share; several as few: smooth weighted round robin among them. */
  private leastBusy(tier: number, eligible: (host: ReplicaHost) => boolean): number {
    const { hosts, load, marked } = this;
    let least = Infinity;
    let first = -1;
    let tied = 0;
    for (let i = 0; i < hosts.length; i++) {
      marked[i] = 0;
      if (this.tier[i] !== tier || !eligible(hosts[i])) continue;
      marked[i] = 1;
      load[i] = hosts[i].busy() / this.share[i];
      if (load[i] < least) {
        least = load[i];
        first = i;
        tied = 1;
      } else if (load[i] === least) {
        tied++;
      }
    }
    if (tied <= 1) return first;
    for (let i = 0; i < hosts.length; i++) if (marked[i] === 1 && load[i] !== least) marked[i] = 0;
    return this.smooth(tier, eligible, true);
  }

  /**
   * The lowest average statement time (a host not measured yet counts as 0, so that each is
   * tried), ties in round-robin order; but a host not picked for exploreAfterMs goes first, the
   * one picked longest ago, and only one read at a time: its turn is over once it is picked.
   */
  private fastest(tier: number, eligible: (host: ReplicaHost) => boolean): number {
    const { hosts, pickedAt } = this;
    const count = hosts.length;
    const start = this.cursor++;
    let best = -1;
    let bestMs = Infinity;
    let stalest = -1;
    for (let n = 0; n < count; n++) {
      const i = (start + n) % count;
      if (this.tier[i] !== tier || !eligible(hosts[i])) continue;
      const ms = hosts[i].latency.averageMs ?? 0;
      if (best < 0 || ms < bestMs) {
        best = i;
        bestMs = ms;
      }
      if (stalest < 0 || pickedAt[i] < pickedAt[stalest]) stalest = i;
    }
    if (best < 0) return -1;
    const now = this.now();
    const chosen = now - pickedAt[stalest] >= this.exploreAfterMs ? stalest : best;
    pickedAt[chosen] = now;
    return chosen;
  }
}
