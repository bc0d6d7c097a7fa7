import { Counter, Registry } from 'prom-client';
import * as prom from 'prom-client';
import { PinDbConfigError } from '../../lib/index.js';
import { attachCounter, attachGauge } from '../../lib/metrics/shared-metric.js';

const spec = { name: 'pindb_test_total', help: 'test', labelNames: ['set'] };

describe('metrics shared by the apps of one process', () => {
  it('a second app attaches to the metric the first registered, and scrapes add up both apps; the last to detach removes it', async () => {
    const registry = new Registry();
    let first = 2;
    let second = 3;
    const a = attachCounter(prom, registry, spec, (counter) => {
      counter.inc({ set: 'default' }, first);
      first = 0;
    });
    const b = attachCounter(prom, registry, spec, (counter) => {
      counter.inc({ set: 'default' }, second);
      second = 0;
    });
    expect(b.metric).toBe(a.metric);
    expect((await registry.getSingleMetric(spec.name)!.get()).values[0].value).toBe(5);

    second = 4; // counted, not scraped yet: detaching hands it over
    b.detach();
    expect((await registry.getSingleMetric(spec.name)!.get()).values[0].value).toBe(9);
    a.detach();
    expect(registry.getSingleMetric(spec.name)).toBeUndefined();
  });

  it('a gauge starts each scrape empty, so a server no app reports any more disappears', async () => {
    const registry = new Registry();
    let servers = ['a:1', 'b:2'];
    const gauge = attachGauge(prom, registry, { name: 'pindb_test_up', help: 'test', labelNames: ['server'] }, (metric) => {
      for (const server of servers) metric.set({ server }, 1);
    });
    expect((await gauge.metric.get()).values.map((value) => value.labels.server)).toEqual(['a:1', 'b:2']);
    servers = ['b:2'];
    expect((await gauge.metric.get()).values.map((value) => value.labels.server)).toEqual(['b:2']);
    gauge.detach();
  });

  it('refuses a metric of the same name that something else registered, saying how to avoid it', () => {
    const registry = new Registry();
    new Counter({ name: spec.name, help: 'not ours', registers: [registry] });
    expect(() => attachCounter(prom, registry, spec, () => undefined)).toThrow(PinDbConfigError);
    expect(() => attachCounter(prom, registry, spec, () => undefined)).toThrow(/already in the Prometheus registry.*metrics: \{ prefix: 'myapp_pindb_' \}/);
  });
});
