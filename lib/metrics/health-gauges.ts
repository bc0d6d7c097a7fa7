import type { Counter, Gauge } from 'prom-client';
import type { ServerHealth, SetHealthReport } from '../health/set-health.js';
import type { MetricsRegistry } from '../options/pin-db-module-options.js';
import type { PromClientModule } from './prom-client.js';
import { AttachedMetric, attachCounter, attachGauge } from './shared-metric.js';

type ReplicaValue = (replica: ServerHealth) => number | undefined;

/**
 * Gauges of the servers' health, read from the health monitor's last report when Prometheus
 * scrapes: no work between scrapes, and no query at scrape time (the monitor's rounds did those).
 */
export class HealthGauges {
  private readonly attached: AttachedMetric<Gauge | Counter>[];
  /** Primary switches already counted, by set (followPromotion). */
  private readonly switchesCounted = new Map<string, number>();

  constructor(prom: PromClientModule, registry: MetricsRegistry, prefix: string, report: () => SetHealthReport[]) {
    const labelNames = ['set', 'server'];
    const replicaGauge = (name: string, help: string, value: ReplicaValue) =>
      attachGauge(prom, registry, { name: `${prefix}${name}`, help, labelNames }, (gauge) => {
        for (const { set, replicas } of report()) {
          for (const replica of replicas) {
            const figure = value(replica);
            if (figure !== undefined) gauge.set({ set, server: replica.server }, figure);
          }
        }
      });
    this.attached = [
      attachGauge(
        prom,
        registry,
        { name: `${prefix}primary_up`, help: "1 while the set's primary answered its last health check, else 0.", labelNames },
        (gauge) => {
          for (const { set, primary } of report()) gauge.set({ set, server: primary.server }, primary.up ? 1 : 0);
        },
      ),
      replicaGauge('replica_up', '1 while the replica answers (its last health check passed and no read found it unreachable since), else 0.', (replica) =>
        replica.up ? 1 : 0,
      ),
      replicaGauge('replica_readable', '1 while the replica serves reads (up, in recovery, not lagging past the limits), else 0.', (replica) =>
        replica.readable ? 1 : 0,
      ),
      // The report leaves out the lag of a replica that is down (stale), so it has no sample then.
      replicaGauge(
        'replica_lag_bytes',
        'Bytes of WAL the replica had not replayed at its last health check (absent while down or unknown).',
        (replica) => replica.lagBytes,
      ),
      replicaGauge(
        'replica_lag_seconds',
        'Seconds the replica was behind at its last health check, 0 when caught up (absent while down or unknown).',
        (replica) => replica.lagSeconds,
      ),
      // A counter fed from the report at scrape time: what the sets with followPromotion switched since the last scrape.
      attachCounter(
        prom,
        registry,
        {
          name: `${prefix}primary_switches_total`,
          help: "Times a set's writes switched to a replica promoted on a newer timeline (sets with followPromotion).",
          labelNames: ['set'],
        },
        (counter) => {
          for (const { set, primarySwitches } of report()) {
            if (primarySwitches === undefined) continue;
            counter.inc({ set }, primarySwitches - (this.switchesCounted.get(set) ?? 0));
            this.switchesCounted.set(set, primarySwitches);
          }
        },
      ),
    ];
  }

  close(): void {
    for (const attached of this.attached) attached.detach();
  }
}
