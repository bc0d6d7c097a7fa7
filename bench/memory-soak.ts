/**
 * bench/memory.ts's soak: the PinDb app of bench/failover-app.ts under autocannon for a while, with
 * replica 0 killed and restarted, then frozen and thawed, in turns (bench/failover-faults.ts),
 * while the app's RSS and heap are sampled; then the figures of the samples: start, end, most, and
 * the slope of a least-squares line over the second half (MB per minute), past the warm-up's growth.
 */
import autocannon from 'autocannon';
import type { PgCluster } from '../lib/testing/index.js';
import { nthId } from './bench-item.js';
import { fault, Scenario } from './failover-faults.js';
import { slope } from './linear-fit.js';
import type { BenchWorker } from './worker.js';

export interface SoakOptions {
  seconds: number;
  connections: number;
  /** Requests a second over all connections; 0: as fast as the app answers. */
  rate: number;
  sampleSeconds: number;
  /** Every how many samples one is taken after a full collection as well. */
  gcEvery: number;
  /** A fault every faultEvery s (the first at half of it), each held faultSeconds. */
  faultEvery: number;
  faultSeconds: number;
}

export interface MemorySample {
  /** Seconds since the load started. */
  at: number;
  rss: number;
  heapUsed: number;
  /** heapUsed and RSS right after a full collection, on every gcEvery-th sample: without the sawtooth of garbage not yet collected. */
  heapAfterGc?: number;
  rssAfterGc?: number;
}

export interface SoakResult {
  samples: MemorySample[];
  faults: { scenario: Scenario; at: number; heldS: number }[];
  requests: number;
  errors: number;
  timeouts: number;
  non2xx: number;
}

const sleepUntil = (at: number) => new Promise((resolve) => setTimeout(resolve, Math.max(0, at - performance.now())));

export async function soak(cluster: PgCluster, app: BenchWorker, url: string, options: SoakOptions): Promise<SoakResult> {
  const t0 = performance.now();
  const endAt = t0 + options.seconds * 1000;
  const requests = Array.from({ length: 20 }, (_, i) => ({ method: 'GET' as const, path: `/read?i=${nthId(i)}` }));
  const load = autocannon({
    url,
    connections: options.connections,
    duration: options.seconds,
    timeout: 5,
    requests,
    ...(options.rate > 0 ? { overallRate: options.rate } : {}),
  });

  const samples: MemorySample[] = [];
  const sampling = (async () => {
    for (let k = 0; performance.now() < endAt; k++) {
      const { usage, afterGc } = await app.call<{ usage: NodeJS.MemoryUsage; afterGc?: NodeJS.MemoryUsage }>('memory', k % options.gcEvery === 0);
      samples.push({ at: (performance.now() - t0) / 1000, rss: usage.rss, heapUsed: usage.heapUsed, heapAfterGc: afterGc?.heapUsed, rssAfterGc: afterGc?.rss });
      await sleepUntil(t0 + (k + 1) * options.sampleSeconds * 1000);
    }
  })();

  const faults: SoakResult['faults'] = [];
  const faulting = (async () => {
    for (let k = 0; ; k++) {
      const at = t0 + (options.faultEvery / 2 + k * options.faultEvery) * 1000;
      if (at + options.faultSeconds * 1000 > endAt) return;
      const scenario: Scenario = k % 2 === 0 ? 'kill' : 'freeze';
      const injected = fault(scenario, cluster, 0, 'steady');
      await sleepUntil(at);
      try {
        await injected.inject();
        await sleepUntil(at + options.faultSeconds * 1000);
        await injected.recover();
      } finally {
        await injected.undo();
      }
      faults.push({ scenario, at: (at - t0) / 1000, heldS: options.faultSeconds });
      console.log(
        `  ${((at - t0) / 1000).toFixed(0)} s: replica 0 ${scenario === 'kill' ? 'killed, restarted' : 'frozen, thawed'} ${options.faultSeconds} s later`,
      );
    }
  })();

  const [result] = await Promise.all([load, sampling, faulting]);
  return { samples, faults, requests: result.requests.total, errors: result.errors, timeouts: result.timeouts, non2xx: result.non2xx };
}

export interface SeriesFigures {
  start: number;
  end: number;
  max: number;
  /** MB per minute, least squares over the samples of the second half. */
  slopeMbPerMin: number;
}

/** The figures of one series (bytes), over the samples that have it. */
export function seriesFigures(samples: MemorySample[], pick: (sample: MemorySample) => number | undefined): SeriesFigures {
  const points = samples.flatMap((sample) => {
    const y = pick(sample);
    return y === undefined ? [] : [{ x: sample.at / 60, y: y / 1e6 }];
  });
  const half = points.at(-1)!.x / 2;
  return {
    start: points[0].y,
    end: points.at(-1)!.y,
    max: Math.max(...points.map((p) => p.y)),
    slopeMbPerMin: slope(points.filter((p) => p.x >= half)),
  };
}
