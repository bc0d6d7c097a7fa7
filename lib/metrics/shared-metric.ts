import type { Counter, Gauge, Histogram } from 'prom-client';
import { PinDbConfigError } from '../errors/pin-db-config.error.js';
import type { MetricsRegistry } from '../options/pin-db-module-options.js';
import type { PromClientModule } from './prom-client.js';

/** Fills a metric at scrape time: a counter's source adds what it counted since, a gauge's sets its values. */
export type MetricSource<M> = (metric: M) => void;

export interface MetricSpec {
  name: string;
  help: string;
  labelNames: readonly string[];
}

/**
 * The sources of a metric nestjs-pindb registered, kept on the metric itself under a global
 * symbol, so that every app of the process (even one loading another copy of nestjs-pindb) finds
 * them through the registry alone.
 */
const SOURCES = Symbol.for('nestjs-pindb.metric-sources');

type Shared<M> = M & { [SOURCES]?: Set<MetricSource<M>>; type?: string };

export interface AttachedMetric<M> {
  metric: M;
  /** Stops feeding the metric; the last app to detach removes it from the registry. */
  detach(): void;
}

/**
 * Registers `source` on the registry's metric named `spec.name`, creating the metric if no app of
 * the process has: several Nest apps in one process (tests do that) share each metric instead of
 * failing with prom-client's "already registered". Counters add up the apps' counts; gauges show
 * what the apps set, the last one winning for a series they share.
 */
export function attachCounter(prom: PromClientModule, registry: MetricsRegistry, spec: MetricSpec, source: MetricSource<Counter>): AttachedMetric<Counter> {
  return attach<Counter>(
    'counter',
    registry,
    spec,
    source,
    (collect) => new prom.Counter({ ...spec, labelNames: [...spec.labelNames], registers: [registry as never], collect }),
  );
}

export function attachGauge(prom: PromClientModule, registry: MetricsRegistry, spec: MetricSpec, source: MetricSource<Gauge>): AttachedMetric<Gauge> {
  return attach<Gauge>(
    'gauge',
    registry,
    spec,
    source,
    (collect) =>
      // A gauge starts each scrape empty: a server an app no longer knows (its app closed) disappears.
      new prom.Gauge({
        ...spec,
        labelNames: [...spec.labelNames],
        registers: [registry as never],
        collect(this: Gauge) {
          this.reset();
          collect.call(this);
        },
      }),
  );
}

/**
 * A histogram, shared like the others. Its events are rare (a wait, not a statement), so each app
 * observes into the shared histogram at once: it has nothing to add at scrape time.
 */
export function attachHistogram(
  prom: PromClientModule,
  registry: MetricsRegistry,
  spec: MetricSpec & { buckets: readonly number[] },
  source: MetricSource<Histogram> = () => undefined,
): AttachedMetric<Histogram> {
  return attach<Histogram>(
    'histogram',
    registry,
    spec,
    source,
    (collect) => new prom.Histogram({ ...spec, labelNames: [...spec.labelNames], buckets: [...spec.buckets], registers: [registry as never], collect }),
  );
}

function attach<M extends object>(
  type: 'counter' | 'gauge' | 'histogram',
  registry: MetricsRegistry,
  spec: MetricSpec,
  source: MetricSource<M>,
  create: (collect: (this: M) => void) => M,
): AttachedMetric<M> {
  let metric = registry.getSingleMetric(spec.name) as Shared<M> | undefined;
  if (metric && (!metric[SOURCES] || metric.type !== type)) {
    throw new PinDbConfigError(
      `A metric named ${spec.name} is already in the Prometheus registry, and nestjs-pindb did not register it: ` +
        `give PinDbModule another prefix (metrics: { prefix: 'myapp_pindb_' }) or another registry (metrics: { registry }).`,
    );
  }
  if (!metric) {
    const sources = new Set<MetricSource<M>>();
    metric = create(function (this: M) {
      for (const feed of sources) feed(this);
    }) as Shared<M>;
    metric[SOURCES] = sources;
  }
  const shared = metric;
  const sources = shared[SOURCES]!;
  sources.add(source);
  return {
    metric: shared,
    detach: () => {
      if (!sources.delete(source)) return;
      if (sources.size > 0) {
        // The apps still running keep what this one counted since the last scrape.
        if (type === 'counter') source(shared);
        return;
      }
      if (registry.getSingleMetric(spec.name) === shared) registry.removeSingleMetric(spec.name);
    },
  };
}
