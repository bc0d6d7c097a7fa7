import type { Counter } from 'prom-client';
import type { MetricsRegistry } from '../options/pin-db-module-options.js';
import type { PromClientModule } from './prom-client.js';
import { AttachedMetric, attachCounter } from './shared-metric.js';

/**
 * `<prefix>job_delays_total{queue}`: jobs with 'delayed' consistency put back because no readable
 * replica had replayed their token yet (nestjs-pindb/bullmq). Tallied per queue and handed to the
 * counter when Prometheus scrapes, as the routing counters are.
 */
export class JobDelayCounter {
  private readonly pending = new Map<string, number>();
  private readonly attached: AttachedMetric<Counter>;

  constructor(prom: PromClientModule, registry: MetricsRegistry, prefix: string) {
    this.attached = attachCounter(
      prom,
      registry,
      {
        name: `${prefix}job_delays_total`,
        help: "Jobs with 'delayed' consistency put back with a delay because no readable replica had replayed their read-your-writes token yet.",
        labelNames: ['queue'],
      },
      (counter) => {
        for (const [queue, count] of this.pending) if (count > 0) counter.inc({ queue }, count);
        this.pending.clear();
      },
    );
  }

  /** A queue's series exists from its first worker on, at 0 (rate() misses the first increase of a series that appears with it). */
  known(queue: string): void {
    this.attached.metric.inc({ queue }, 0);
  }

  delayed(queue: string): void {
    this.pending.set(queue, (this.pending.get(queue) ?? 0) + 1);
  }

  close(): void {
    this.attached.detach();
  }
}
