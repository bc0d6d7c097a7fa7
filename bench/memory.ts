// What PinDb keeps in memory, and whether it keeps it: (a) bytes retained per open context and per
// token, (b) a soak of the GET route app under load and faults, its RSS and heap sampled.
//
// (a) In a worker process of its own running the PinDb app of bench/failover-app.ts: MEMORY_N (10000)
//     at a time of each probe (bench/memory-probes.ts), held open by pending promises, the heap
//     measured after full collections (global.gc: the script runs node with --expose-gc; without
//     it the bench exposes gc through V8's flag) before and while they are held, divided by N:
//     pending async functions without a context (the baseline), routing.run() contexts after one
//     routing decision, the same after one replica read, the same carrying a signed token that
//     the decision verified, and signed tokens in a MemoryPinStore. REPEATS (3) times; medians.
// (b) The same app in another worker under autocannon (SOAK_CONNECTIONS 20, SOAK_RATE 1000 req/s
//     overall, 0 = flat out) on GET /read for SOAK_SECONDS (600); every FAULT_EVERY (60) s replica 0
//     is killed or frozen, in turns, for FAULT_SECONDS (10); the app's RSS and heapUsed sampled
//     every SAMPLE_SECONDS (5), and every GC_EVERY-th (2nd) sample also right after a full
//     collection. Printed: start, end, most, and the slope of a least-squares line over the second
//     half in MB per minute; flat: |slope| ≤ FLAT_MB_PER_MIN (0.5), judged on the samples taken
//     after a collection (the others swing with the garbage not yet collected).
//
// Run: npm run bench:memory   (PARTS=probes,soak; SOAK_SECONDS=300 for a shorter soak)
import { NestFactory } from '@nestjs/core';
import { Agent } from 'node:http';
import { cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { ClusterInfo, runBench, startBenchCluster } from './cluster-check.js';
import { appModule } from './failover-app.js';
import { getRead } from './failover-load.js';
import { gcFunction, probe, probeApp, ProbeKind, ProbeResult, PROBES } from './memory-probes.js';
import { seriesFigures, SeriesFigures, soak, SoakOptions } from './memory-soak.js';
import { saveResults } from './results.js';
import { median, pad } from './stats.js';
import { BenchWorker, serveBenchWorker } from './worker.js';

const PARTS = (process.env.PARTS ?? 'probes,soak').split(',');
const N = Number(process.env.MEMORY_N ?? 10_000);
const REPEATS = Number(process.env.REPEATS ?? 3);
const FLAT = Number(process.env.FLAT_MB_PER_MIN ?? 0.5);
const SOAK: SoakOptions = {
  seconds: Number(process.env.SOAK_SECONDS ?? 600),
  connections: Number(process.env.SOAK_CONNECTIONS ?? 20),
  rate: Number(process.env.SOAK_RATE ?? 1000),
  sampleSeconds: Number(process.env.SAMPLE_SECONDS ?? 5),
  gcEvery: Number(process.env.GC_EVERY ?? 2),
  faultEvery: Number(process.env.FAULT_EVERY ?? 60),
  faultSeconds: Number(process.env.FAULT_SECONDS ?? 10),
};
const SELF = fileURLToPath(import.meta.url);
const KINDS = Object.keys(PROBES) as ProbeKind[];

/** The child side: the PinDb app; `probe` runs (a), `memory` samples (b). */
function serveMemoryApp(cluster: ClusterInfo, listen: boolean): Promise<void> {
  let app: Awaited<ReturnType<typeof NestFactory.create>>;
  const gc = gcFunction();
  serveBenchWorker({
    setup: async () => {
      app = await NestFactory.create(await appModule('pindb', cluster, undefined), { logger: ['error', 'warn'] });
      if (!listen) return { url: '' };
      await app.listen(0, '127.0.0.1');
      return { url: (await app.getUrl()).replace('[::1]', '127.0.0.1') };
    },
    probe: ({ kind, n }: { kind: ProbeKind; n: number }) => probe(probeApp(app), kind, n),
    memory: (afterGc: boolean) => {
      const usage = process.memoryUsage();
      if (!afterGc) return { usage };
      gc();
      return { usage, afterGc: process.memoryUsage() };
    },
    stop: () => app.close(),
  });
  return Promise.resolve();
}

const mb = (bytes: number) => `${(bytes / 1e6).toFixed(1)} MB`;

async function probes(workers: BenchWorker[], env: Record<string, string>): Promise<Record<ProbeKind, ProbeResult[]>> {
  const [worker] = await BenchWorker.start('memory-probes', SELF, ['probes'], env);
  workers.push(worker);
  const results = Object.fromEntries(KINDS.map((kind) => [kind, [] as ProbeResult[]])) as Record<ProbeKind, ProbeResult[]>;
  try {
    console.log(`\n(a) bytes retained per item, ${N} held at once, ${REPEATS} times each (heap after full collections):`);
    for (let repeat = 0; repeat < REPEATS; repeat++) {
      for (const kind of KINDS) {
        const result = await worker.call<ProbeResult>('probe', { kind, n: N });
        results[kind].push(result);
        console.log(`  ${pad(kind, 16)} ${result.perItem.toFixed(0)} B each (heap ${mb(result.before)} → ${mb(result.after)})`);
      }
    }
  } finally {
    await worker.stop();
  }
  return results;
}

function probeTable(results: Record<ProbeKind, ProbeResult[]>): string {
  const base = median(results.promises.map((r) => r.perItem));
  const lines = ['| what is held | bytes each (median) | runs | net of the baseline |', '|---|---|---|---|'];
  for (const kind of KINDS) {
    const each = median(results[kind].map((r) => r.perItem));
    const runs = results[kind].map((r) => r.perItem.toFixed(0)).join(', ');
    const tokenLength = results[kind][0].tokenLength;
    const net = kind === 'promises' || kind === 'store-tokens' ? '—' : `${(each - base).toFixed(0)}`;
    lines.push(`| ${PROBES[kind]}${tokenLength ? ` (token: ${tokenLength} chars)` : ''} | ${each.toFixed(0)} | ${runs} | ${net} |`);
  }
  return lines.join('\n');
}

async function soakPart(cluster: Parameters<typeof soak>[0], workers: BenchWorker[], env: Record<string, string>) {
  const [worker, { url }] = await BenchWorker.start<{ url: string }>('memory-soak', SELF, ['soak'], env);
  workers.push(worker);
  try {
    const check = await getRead(new Agent(), new URL(url), '/read', 5000, performance.now());
    if (check.error) throw new Error(`${url}/read: ${check.error}`);
    console.log(
      `\n(b) soak: GET /read, ${SOAK.connections} connections, ${SOAK.rate || 'unbounded'} req/s, ${SOAK.seconds} s; a fault every ${SOAK.faultEvery} s held ${SOAK.faultSeconds} s; a sample every ${SOAK.sampleSeconds} s`,
    );
    const result = await soak(cluster, worker, url, SOAK);
    const figures: Record<'rss' | 'heapUsed' | 'rssAfterGc' | 'heapAfterGc', SeriesFigures> = {
      rss: seriesFigures(result.samples, (s) => s.rss),
      heapUsed: seriesFigures(result.samples, (s) => s.heapUsed),
      rssAfterGc: seriesFigures(result.samples, (s) => s.rssAfterGc),
      heapAfterGc: seriesFigures(result.samples, (s) => s.heapAfterGc),
    };
    return { result, figures };
  } finally {
    await worker.stop();
  }
}

async function main(): Promise<void> {
  const started = performance.now();
  const { cluster, workers, env, stop } = await startBenchCluster();
  try {
    console.log(
      `node ${process.version} (${typeof globalThis.gc === 'function' ? '--expose-gc' : 'gc exposed through V8 flags'}); load average ${loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')} (${cpus().length} cores)`,
    );
    const saved: Record<string, unknown> = {};
    const summary: string[] = [];
    if (PARTS.includes('probes')) {
      const results = await probes(workers, env);
      console.log(`\n${probeTable(results)}\n`);
      const each = (kind: ProbeKind) => median(results[kind].map((r) => r.perItem));
      summary.push(
        `RESULT: per open context ${(each('contexts') - each('promises')).toFixed(0)} B (after a read ${(each('contexts-read') - each('promises')).toFixed(0)} B, ` +
          `with a verified token ${(each('verified-tokens') - each('promises')).toFixed(0)} B) over a bare pending async function (${each('promises').toFixed(0)} B); ` +
          `per token in a MemoryPinStore ${each('store-tokens').toFixed(0)} B`,
      );
      saved.probes = { n: N, repeats: REPEATS, results };
    }
    if (PARTS.includes('soak')) {
      const { result, figures } = await soakPart(cluster, workers, env);
      const minutes = SOAK.seconds / 60;
      const perMinute = result.requests / minutes;
      console.log('\n| series | start | end | most | slope, second half |\n|---|---|---|---|---|');
      for (const [name, f] of Object.entries(figures)) {
        console.log(
          `| ${name} | ${f.start.toFixed(1)} MB | ${f.end.toFixed(1)} MB | ${f.max.toFixed(1)} MB | ${f.slopeMbPerMin >= 0 ? '+' : ''}${f.slopeMbPerMin.toFixed(3)} MB/min |`,
        );
      }
      const flat = (f: SeriesFigures) => Math.abs(f.slopeMbPerMin) <= FLAT;
      console.log(
        `\n${result.requests} requests (${(perMinute / 60).toFixed(0)} req/s), ${result.errors} errors, ${result.timeouts} timeouts, ${result.non2xx} non-2xx; ` +
          `${result.faults.length} faults; heap after GC slope = ${((figures.heapAfterGc.slopeMbPerMin * 1e6) / perMinute).toFixed(2)} B per request`,
      );
      summary.push(
        `RESULT: soak ${SOAK.seconds} s: RSS after GC ${figures.rssAfterGc.slopeMbPerMin.toFixed(3)} MB/min (${flat(figures.rssAfterGc) ? 'flat' : 'NOT flat'}), ` +
          `heap after GC ${figures.heapAfterGc.slopeMbPerMin.toFixed(3)} MB/min (${flat(figures.heapAfterGc) ? 'flat' : 'NOT flat'}) over the second half (flat: |slope| ≤ ${FLAT}); ` +
          `${result.errors + result.timeouts + result.non2xx} failed requests`,
      );
      saved.soak = { options: SOAK, figures, ...result };
    }
    for (const line of summary) console.log(line);
    await saveResults('memory', saved);
    console.log(`total ${((performance.now() - started) / 1000).toFixed(0)} s`);
  } finally {
    await stop();
  }
}

runBench(process.argv[2] === 'probes' || process.argv[2] === 'soak', (cluster) => serveMemoryApp(cluster, process.argv[2] === 'soak'), main);
