import type { TestApp } from './test-app.js';

// The sample's own /health and /metrics: the tests check what the README and the sample show.
export { HealthController } from '../../sample/observability/health.controller.js';
export { MetricsController } from '../../sample/observability/metrics.controller.js';

/** One scrape of /metrics: the value of a series, undefined when it is absent. */
export type Scrape = (name: string, labels?: Record<string, string>) => number | undefined;

/** Scrapes the app's /metrics (Prometheus text format). */
export async function scrape(app: TestApp): Promise<Scrape> {
  const { status, body } = await app.get('/metrics');
  if (status !== 200) throw new Error(`/metrics answered ${status}: ${String(body)}`);
  const series = String(body)
    .split('\n')
    .filter((line) => line && !line.startsWith('#'))
    .map((line) => {
      const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
      if (!match) throw new Error(`Unexpected /metrics line: ${line}`);
      const labels = Object.fromEntries([...(match[2] ?? '').matchAll(/([a-zA-Z_]\w*)="((?:[^"\\]|\\.)*)"/g)].map(([, key, value]) => [key, value]));
      return { name: match[1], labels, value: Number(match[3]) };
    });
  return (name, labels = {}) =>
    series.find(
      (entry) =>
        entry.name === name &&
        Object.entries(labels).every(([key, value]) => entry.labels[key] === value) &&
        Object.keys(entry.labels).length === Object.keys(labels).length,
    )?.value;
}
