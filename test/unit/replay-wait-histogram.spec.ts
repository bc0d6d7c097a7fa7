import * as prom from 'prom-client';
import { Registry } from 'prom-client';
import { ReplayWaitHistogram } from '../../lib/metrics/replay-wait-histogram.js';

/** The histogram's _count and _sum for one set and outcome, from the registry's text. */
async function series(registry: Registry, set: string, outcome: string): Promise<{ count?: number; sum?: number }> {
  const text = await registry.metrics();
  const value = (suffix: string) => {
    const match = new RegExp(`^pindb_replay_wait_seconds_${suffix}\\{set="${set}",outcome="${outcome}"\\} (\\S+)$`, 'm').exec(text);
    return match ? Number(match[1]) : undefined;
  };
  return { count: value('count'), sum: value('sum') };
}

describe('pindb_replay_wait_seconds', () => {
  it("has every set's series from the start, at 0, and counts each wait by where the read went then", async () => {
    const registry = new Registry();
    const histogram = new ReplayWaitHistogram(prom, registry, 'pindb_', ['default', 'analytics']);
    expect(await series(registry, 'default', 'replica')).toEqual({ count: 0, sum: 0 });
    expect(await series(registry, 'analytics', 'primary')).toEqual({ count: 0, sum: 0 });

    histogram.observe('default', 'replica', 0.0125);
    histogram.observe('default', 'replica', 0.0375);
    histogram.observe('default', 'primary', 0.5);
    expect(await series(registry, 'default', 'replica')).toEqual({ count: 2, sum: 0.05 });
    expect(await series(registry, 'default', 'primary')).toEqual({ count: 1, sum: 0.5 });
    expect(await registry.metrics()).toMatch(/^pindb_replay_wait_seconds_bucket\{le="0\.025",set="default",outcome="replica"\} 1$/m);
    histogram.close();
    expect(registry.getSingleMetric('pindb_replay_wait_seconds')).toBeUndefined();
  });

  it("a second app of the process shares the histogram without resetting the first one's waits; the last to close removes it", async () => {
    const registry = new Registry();
    const first = new ReplayWaitHistogram(prom, registry, 'pindb_', ['default']);
    first.observe('default', 'primary', 0.25);
    const second = new ReplayWaitHistogram(prom, registry, 'pindb_', ['default']);
    second.observe('default', 'primary', 0.25);
    expect(await series(registry, 'default', 'primary')).toEqual({ count: 2, sum: 0.5 });
    first.close();
    expect(await series(registry, 'default', 'primary')).toEqual({ count: 2, sum: 0.5 });
    second.close();
    expect(registry.getSingleMetric('pindb_replay_wait_seconds')).toBeUndefined();
  });
});
