import type { ReplicaSelection } from '../options/pin-db-module-options.js';
import { ReplicaHost } from './replica-host.js';

/**
 * A set's replicas, and the choice of one for the next read. `eligible` is where health and
 * read-your-writes tokens plug in: a host it rejects is skipped. This runs for every read, so it
 * walks the hosts in place rather than building a list of candidates.
 */
export class HostList {
  private cursor = 0;

  constructor(
    readonly hosts: readonly ReplicaHost[],
    private readonly selection: ReplicaSelection,
  ) {}

  get size(): number {
    return this.hosts.length;
  }

  next(eligible: (host: ReplicaHost) => boolean = () => true): ReplicaHost | undefined {
    const count = this.hosts.length;
    // Round robin starts where the last pick left off; random starts anywhere. Either way the
    // first eligible host from there wins, so an ineligible host's turn passes to the next one.
    const start = this.selection === 'random' ? Math.floor(Math.random() * count) : this.cursor++;
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
}
