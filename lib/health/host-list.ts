import type { ReplicaSelection } from '../options/pin-db-module-options.js';
import { ReplicaHost } from './replica-host.js';

/**
 * A set's replicas, and the choice of one for the next read. `eligible` is where health and
 * read-your-writes tokens plug in: a host it rejects is skipped.
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
    const candidates = this.hosts.filter(eligible);
    if (candidates.length === 0) return undefined;
    switch (this.selection) {
      case 'random':
        return candidates[Math.floor(Math.random() * candidates.length)];
      case 'least-busy':
        return this.leastBusy(candidates);
      case 'round-robin':
        return candidates[this.cursor++ % candidates.length];
    }
  }

  /** Fewest checked-out connections; ties go round robin, so an idle set still spreads its reads. */
  private leastBusy(candidates: ReplicaHost[]): ReplicaHost {
    const start = this.cursor++;
    let best = candidates[start % candidates.length];
    for (let i = 1; i < candidates.length; i++) {
      const host = candidates[(start + i) % candidates.length];
      if (host.busy() < best.busy()) best = host;
    }
    return best;
  }
}
