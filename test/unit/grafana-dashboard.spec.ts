import { readFileSync } from 'node:fs';
import type { Registry } from 'prom-client';
import type { PinDbModuleOptions } from '../../lib/index.js';
import { HealthGauges } from '../../lib/metrics/health-gauges.js';
import { JobDelayCounter } from '../../lib/metrics/job-delay-counter.js';
import { loadPromClient } from '../../lib/metrics/prom-client.js';
import { RoutingCounters } from '../../lib/metrics/routing-counters.js';
import { resolvePinDbOptions } from '../../lib/options/resolve-options.js';

// The dashboard shipped in the package (grafana/): every query it sends must name a metric the
// library registers, or its panel stays empty without a word.

interface Target {
  refId: string;
  expr: string;
}

interface Panel {
  id: number;
  title: string;
  type: string;
  datasource: { type: string; uid: string };
  gridPos: { x: number; y: number; w: number; h: number };
  targets: Target[];
}

interface Variable {
  name: string;
  type: string;
  query: string | { query: string };
}

interface Dashboard {
  title: string;
  uid: string;
  panels: Panel[];
  templating: { list: Variable[] };
}

const dashboard = JSON.parse(readFileSync(new URL('../../grafana/nestjs-pindb.dashboard.json', import.meta.url), 'utf8')) as Dashboard;
const variable = (name: string) => dashboard.templating.list.find((v) => v.name === name);
const queryOf = (v: Variable | undefined) => (typeof v?.query === 'string' ? v.query : v?.query.query);

/** The prefix PinDbModule gives its metrics when the app names none. */
const DEFAULT_PREFIX = (resolvePinDbOptions({ sets: { default: { primary: { host: '127.0.0.1' } } } } as PinDbModuleOptions).metrics || { prefix: '' }).prefix;

const PROMQL_KEYWORDS = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'bool', 'offset', 'and', 'or', 'unless', 'atan2']);

/**
 * The metric names a PromQL expression selects, with Grafana's variables in it: the dashboard's
 * `${prefix}` becomes `prefix`, other variables (`$set`, `$__rate_interval`) only appear inside
 * matchers and ranges, which are dropped with strings and `by (…)` label lists; what is left is
 * functions (followed by a parenthesis), keywords and metric names.
 */
function metricNames(expr: string, prefix: string): string[] {
  const bare = expr
    .replace(/\$\{prefix\}|\$prefix\b/g, prefix)
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ');
  const names = [...bare.matchAll(/(?<![\w:$])[a-zA-Z_:][\w:]*(?![\w:])(?!\s*\()/g)].map((match) => match[0]).filter((name) => !PROMQL_KEYWORDS.has(name));
  return [...new Set(names)];
}

/** A histogram's or summary's series are named after it with one of these suffixes. */
const SERIES_SUFFIX = /_(bucket|sum|count)$/;

/** The registered metric (of `types`: name → type) a series belongs to: itself, or the histogram or summary of a `_bucket`, `_sum` or `_count` series. */
function metricOf(types: Map<string, string>, series: string): string | undefined {
  if (types.has(series)) return series;
  const base = series.replace(SERIES_SUFFIX, '');
  return ['histogram', 'summary'].includes(types.get(base) ?? '') ? base : undefined;
}

describe('the Grafana dashboard (grafana/nestjs-pindb.dashboard.json)', () => {
  let registry: Registry;
  /** Each registered metric's type, by name. */
  let types: Map<string, string>;
  let close: () => void;

  beforeAll(async () => {
    // The metrics as PinDbMetrics (routing counters, health gauges) and the BullMQ explorer (job
    // delays) register them, into a registry of the spec's own: no cluster, no app needed.
    const prom = (await loadPromClient())!;
    registry = new prom.Registry();
    const counters = new RoutingCounters(prom, registry, DEFAULT_PREFIX, [{ set: 'default', primary: '127.0.0.1:5432', replicas: ['127.0.0.1:5433'] }]);
    const gauges = new HealthGauges(prom, registry, DEFAULT_PREFIX, () => []);
    const jobs = new JobDelayCounter(prom, registry, DEFAULT_PREFIX);
    close = () => [counters, gauges, jobs].forEach((metrics) => metrics.close());
    types = new Map((await registry.getMetricsAsJSON()).map((metric) => [metric.name, String(metric.type)]));
  });

  afterAll(() => close());

  const registered = (series: string) => metricOf(types, series);

  it('finds the metric names of PromQL expressions (the check below relies on it)', () => {
    const cases: [string, string[]][] = [
      ['sum by (role) (rate(${prefix}statements_total{set=~"$set", role="replica"}[$__rate_interval]))', ['pindb_statements_total']],
      ['max by (set, server) (${prefix}replica_lag_bytes{set=~"$set"}) > bool 0', ['pindb_replica_lag_bytes']],
      ['histogram_quantile(0.99, sum by (le) (rate(x_seconds_bucket{a="b(c)"}[5m]))) / on (set) group_left y offset 5m', ['x_seconds_bucket', 'y']],
      ['count by (set) (up{job="by"}) and sum without (server) (z)', ['up', 'z']],
    ];
    for (const [expr, names] of cases) expect(metricNames(expr, 'pindb_')).toEqual(names);
  });

  it("takes a histogram's _bucket, _sum and _count series for the histogram, and no other metric's", () => {
    const types = new Map([
      ['a_seconds', 'histogram'],
      ['b_total', 'counter'],
    ]);
    const cases: [string, string | undefined][] = [
      ['a_seconds_bucket', 'a_seconds'],
      ['a_seconds_sum', 'a_seconds'],
      ['a_seconds_count', 'a_seconds'],
      ['a_seconds', 'a_seconds'],
      ['b_total', 'b_total'],
      ['b_total_count', undefined],
      ['c_bucket', undefined],
    ];
    for (const [series, metric] of cases) expect(metricOf(types, series)).toBe(metric);
  });

  it('is a Grafana dashboard: a title, a uid, and panels that each have a title, a type, a Prometheus data source and targets with a query', () => {
    expect(typeof dashboard.title).toBe('string');
    expect(typeof dashboard.uid).toBe('string');
    expect(dashboard.panels.length).toBeGreaterThan(0);
    const ids = new Set<number>();
    for (const panel of dashboard.panels) {
      expect(typeof panel.title).toBe('string');
      expect(panel.title.length).toBeGreaterThan(0);
      expect(typeof panel.type).toBe('string');
      expect(panel.datasource).toEqual({ type: 'prometheus', uid: '${datasource}' });
      expect(Array.isArray(panel.targets)).toBe(true);
      expect(panel.targets.length).toBeGreaterThan(0);
      for (const target of panel.targets) expect(target.expr).toMatch(/\S/);
      expect(new Set(panel.targets.map((t) => t.refId)).size).toBe(panel.targets.length);
      expect(ids.has(panel.id)).toBe(false);
      ids.add(panel.id);
      // On Grafana's 24-column grid.
      expect(panel.gridPos.x + panel.gridPos.w).toBeLessThanOrEqual(24);
    }
  });

  it('has a Prometheus data source variable, a metric prefix defaulting to PinDbModule’s, and a set variable from the label values', () => {
    expect(variable('datasource')).toMatchObject({ type: 'datasource', query: 'prometheus' });
    expect(DEFAULT_PREFIX).toBe('pindb_');
    expect(variable('prefix')).toMatchObject({ type: 'textbox', query: DEFAULT_PREFIX });
    expect(variable('set')?.type).toBe('query');
    expect(queryOf(variable('set'))).toMatch(/^label_values\(\$\{prefix\}\w+, set\)$/);
  });

  it('queries only metrics the library registers (the set variable’s too), with the default prefix', () => {
    const queries = [
      ...dashboard.panels.flatMap((panel) => panel.targets.map((target) => ({ where: `panel "${panel.title}" ${target.refId}`, expr: target.expr }))),
      { where: 'variable set', expr: queryOf(variable('set'))!.replace(/^label_values\((.*), \w+\)$/, '$1') },
    ];
    const unknown: string[] = [];
    for (const { where, expr } of queries) {
      const names = metricNames(expr, DEFAULT_PREFIX);
      expect(names.length).toBeGreaterThan(0);
      for (const name of names) if (!registered(name)) unknown.push(`${where}: ${name}`);
    }
    expect(unknown).toEqual([]);
  });

  it('shows every metric the library registers in some panel', () => {
    const shown = new Set(dashboard.panels.flatMap((panel) => panel.targets.flatMap((target) => metricNames(target.expr, DEFAULT_PREFIX).map(registered))));
    const all = [...types.keys()];
    expect(all.length).toBeGreaterThanOrEqual(11);
    expect(all.filter((name) => !shown.has(name))).toEqual([]);
  });
});
