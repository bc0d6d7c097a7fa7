import type { Histogram } from 'prom-client';
import type { MetricsRegistry } from '../options/pin-db-module-options.js';
import type { PromClientModule } from './prom-client.js';
import { AttachedMetric, attachHistogram } from './shared-metric.js';

/** From a few milliseconds (a replica just behind) to the longest replayWaitMs worth having. */
const BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

/**
 * `replay_wait_seconds{set, outcome}`: how long reads waited for a replica to replay their
 * client's token (replayWaitMs), and where they went then: `replica` (one caught up in time) or
 * `primary` (none did). At most one wait per context and set, so observing each one at once costs
 * the hot path nothing.
 */
export class ReplayWaitHistogram {
  private readonly attached: AttachedMetric<Histogram>;

  constructor(prom: PromClientModule, registry: MetricsRegistry, prefix: string, sets: readonly string[]) {
    const name = `${prefix}replay_wait_seconds`;
    const shared = registry.getSingleMetric(name) !== undefined;
    this.attached = attachHistogram(prom, registry, {
      name,
      help: "Seconds a read waited for a replica to replay its client's token (replayWaitMs), by set and where the read went then (replica or primary).",
      labelNames: ['set', 'outcome'],
      buckets: BUCKETS,
    });
    // Every series from the start, at 0, as the counters do; but zero() would reset what another
    // app of the process observed into a histogram it registered first.
    if (!shared) for (const set of sets) for (const outcome of ['replica', 'primary']) this.attached.metric.zero({ set, outcome });
  }

  observe(set: string, outcome: 'replica' | 'primary', seconds: number): void {
    this.attached.metric.observe({ set, outcome }, seconds);
  }

  close(): void {
    this.attached.detach();
  }
}
