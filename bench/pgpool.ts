// PinDb against a proxy, side by side on one cluster: the same routes through pgpool-II (a plain
// TypeORM DataSource whose only server is pgpool, which picks the backend per query) and through
// PinDb (its module over the same primary and replicas). Three parts, in one run:
//
// - throughput: req/s and p50 / p99 of GET /read (bench/failover-app.ts's route: one row through a
//   query builder), autocannon with CONNECTIONS for DURATION s per app and round, ROUNDS rounds in
//   a fresh order each (interleaved), after a warm-up; the median of the per-round ratios; plain
//   TypeORM `replication` straight to the replicas as the reference. Also the CPU that pgpool's
//   own processes spent per request (the proxy's share of the 2 cores).
// - read-your-writes: the simulated clients of bench/consistency.ts (CLIENTS, think THINK ms, 10 %
//   writes, each read checked against the client's own last acknowledged write) at LAGS ms of
//   replica lag (recovery_min_apply_delay), CONSISTENCY_SECONDS measured per run: PinDb lsn (its
//   default) against pgpool with disable_load_balance_on_write 'transaction' (its default),
//   'always' and 'dml_adaptive' (its safe settings).
// - failover: FAILOVER_CONNECTIONS closed-loop clients on GET /read (bench/failover-load.ts) for
//   FAILOVER_SECONDS; at FAULT_AT s replica 0 is killed or frozen (bench/failover-faults.ts), at
//   RECOVER_AT s restarted or thawed; failed requests (errors, and requests unanswered after
//   CLIENT_TIMEOUT ms) per phase. A fresh app (and a fresh pgpool) per run.
//
// Run: npm run bench:pgpool  (SKIPs with how to install pgpool when its binary cannot be found)
// Env: PARTS (throughput,consistency,failover); ROUNDS (5), DURATION (5) s, CONNECTIONS (50);
//      CLIENTS (200), THINK ms (500), CONSISTENCY_SECONDS (10), LAGS ms (300,3000), PGPOOL_MODES
//      (transaction,always,dml_adaptive); SCENARIOS (kill,freeze), FAILOVER_SECONDS (20), FAULT_AT
//      (5), RECOVER_AT (12), FAILOVER_CONNECTIONS (50), CLIENT_TIMEOUT ms (5000); DELAY_THRESHOLD
//      bytes (1048576: pgpool's delay_threshold), STATEMENT_LEVEL_LB (on).
// The pgpool.conf it writes is printed at the start (bench/pgpool-server.ts: keySettings). Each
// app runs in its own child process (bench/worker.ts); PinDb's are those of bench/failover.ts and
// bench/consistency.ts, run as their workers.
import autocannon from 'autocannon';
import { Agent } from 'node:http';
import { cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import type { PgCluster } from '../lib/testing/index.js';
import { nthId } from './bench-item.js';
import { runBench, startBenchCluster } from './cluster-check.js';
import { createBenchWrites } from './consistency-app.js';
import { RunResult, runClients, send } from './consistency-clients.js';
import { CookieJar } from './cookie-jar.js';
import { fault, Scenario } from './failover-faults.js';
import { getRead, RequestRecord, runLoad } from './failover-load.js';
import { markdownTable, PhaseFigures, phaseLine, phases, TableRow } from './failover-phases.js';
import { HealthWatch } from './failover-watch.js';
import { servePgpoolApp } from './pgpool-app.js';
import { findPgpool, keySettings, LoadBalanceOnWrite, PgpoolServer } from './pgpool-server.js';
import { PgpoolNodeWatch } from './pgpool-watch.js';
import { saveResults } from './results.js';
import { median, pad, roundOrder } from './stats.js';
import { BenchWorker } from './worker.js';

const PARTS = (process.env.PARTS ?? 'throughput,consistency,failover').split(',');
const ROUNDS = Number(process.env.ROUNDS ?? 5);
const DURATION = Number(process.env.DURATION ?? 5);
const CONNECTIONS = Number(process.env.CONNECTIONS ?? 50);
const CLIENTS = Number(process.env.CLIENTS ?? 200);
const THINK_MS = Number(process.env.THINK ?? 500);
const CONSISTENCY_SECONDS = Number(process.env.CONSISTENCY_SECONDS ?? 10);
const LAGS = (process.env.LAGS ?? '300,3000').split(',').map(Number);
const MODES = (process.env.PGPOOL_MODES ?? 'transaction,always,dml_adaptive').split(',') as LoadBalanceOnWrite[];
const SCENARIOS = (process.env.SCENARIOS ?? 'kill,freeze').split(',') as Scenario[];
const FAILOVER_SECONDS = Number(process.env.FAILOVER_SECONDS ?? 20);
const FAULT_AT = Number(process.env.FAULT_AT ?? 5);
const RECOVER_AT = Number(process.env.RECOVER_AT ?? 12);
const FAILOVER_CONNECTIONS = Number(process.env.FAILOVER_CONNECTIONS ?? 50);
const CLIENT_TIMEOUT = Number(process.env.CLIENT_TIMEOUT ?? 5000);
const DELAY_THRESHOLD = Number(process.env.DELAY_THRESHOLD ?? 1024 * 1024);
const STATEMENT_LEVEL = (process.env.STATEMENT_LEVEL_LB ?? 'on') !== 'off';
const WARMUP_SECONDS = 3;
const SELF = fileURLToPath(import.meta.url);
/** PinDb's apps: those of the failover and consistency benches, run as their workers. */
const FAILOVER_BENCH = fileURLToPath(new URL('./failover.ts', import.meta.url));
const CONSISTENCY_BENCH = fileURLToPath(new URL('./consistency.ts', import.meta.url));

type Side = 'pindb' | 'pgpool';
const SIDES: Side[] = ['pindb', 'pgpool'];
/** The throughput part also loads plain TypeORM `replication` straight to the replicas: what each of the two costs. */
type ThroughputApp = Side | 'plain';
const THROUGHPUT_APPS: ThroughputApp[] = ['pindb', 'pgpool', 'plain'];
const LABELS: Record<ThroughputApp, string> = { pindb: 'PinDb', pgpool: 'pgpool-II', plain: 'plain TypeORM replication (no router)' };

interface App {
  worker: BenchWorker;
  url: string;
}

interface Bench {
  cluster: PgCluster;
  workers: BenchWorker[];
  env: Record<string, string>;
  binary: string;
  pools: PgpoolServer[];
}

/** A fresh pgpool with `onWrite`, and the app over it. */
async function startPgpool(bench: Bench, onWrite: LoadBalanceOnWrite, name: string): Promise<{ pgpool: PgpoolServer; app: App }> {
  const pgpool = await PgpoolServer.start({
    binary: bench.binary,
    cluster: { primary: bench.cluster.primary, replicas: bench.cluster.replicas },
    onWrite,
    delayThresholdBytes: DELAY_THRESHOLD,
    statementLevel: STATEMENT_LEVEL,
  });
  bench.pools.push(pgpool);
  const [worker, { url }] = await BenchWorker.start<{ url: string }>(name, SELF, ['pgpool-app', String(pgpool.port)], bench.env);
  bench.workers.push(worker);
  return { pgpool, app: { worker, url } };
}

async function startApp(bench: Bench, name: string, script: string, args: string[]): Promise<App> {
  const [worker, { url }] = await BenchWorker.start<{ url: string }>(name, script, args, bench.env);
  bench.workers.push(worker);
  return { worker, url };
}

async function stopPgpool(bench: Bench, pgpool: PgpoolServer, app: App): Promise<void> {
  await app.worker.stop();
  await pgpool.stop();
  bench.pools.splice(bench.pools.indexOf(pgpool), 1);
}

/** Before measuring: unpinned reads of both routes are answered, by replicas only. */
async function checkReads(name: string, url: string, replicaPorts: number[]): Promise<void> {
  const agent = new Agent({ keepAlive: false });
  const base = new URL(url);
  for (let i = 0; i < 6; i++) {
    const record = await getRead(agent, base, `/read?i=${i}`, CLIENT_TIMEOUT, performance.now());
    if (record.error || !replicaPorts.includes(record.port!))
      throw new Error(`${name} /read: ${record.error ?? `served by :${record.port}, not by a replica`}`);
  }
}

async function checkLatest(name: string, url: string, replicaPorts: number[]): Promise<void> {
  const agent = new Agent({ keepAlive: false });
  for (let i = 0; i < 4; i++) {
    const { status, text } = await send(agent, new URL(url), 'GET', '/clients/0/latest', new CookieJar());
    const port = status === 200 ? (JSON.parse(text) as { port: number }).port : undefined;
    if (port === undefined || !replicaPorts.includes(port)) throw new Error(`${name} /clients/0/latest: ${status} ${text.slice(0, 200)}`);
  }
}

// ------------------------------------------------------------------ throughput

interface ThroughputSample {
  rps: number;
  p50: number;
  p99: number;
  /** pgpool only: CPU ms its processes spent per 1000 requests. */
  proxyCpuMsPer1k?: number;
}

async function load(url: string, seconds: number): Promise<autocannon.Result> {
  const requests = Array.from({ length: 20 }, (_, i) => ({ method: 'GET' as const, path: `/read?i=${nthId(i)}` }));
  const result = await autocannon({ url, connections: CONNECTIONS, duration: seconds, requests });
  if (result.errors || result.timeouts || result.non2xx)
    throw new Error(`${url}: ${result.errors} errors, ${result.timeouts} timeouts, ${result.non2xx} non-2xx`);
  return result;
}

interface ThroughputResult {
  samples: Record<ThroughputApp, ThroughputSample[]>;
  /** Per round: pgpool / PinDb, PinDb / plain, pgpool / plain (req/s). */
  ratios: { pgpoolVsPindb: number; pindbVsPlain: number; pgpoolVsPlain: number }[];
}

async function throughput(bench: Bench): Promise<ThroughputResult> {
  const replicaPorts = bench.cluster.replicas.map((replica) => replica.port);
  const pindb = await startApp(bench, 'throughput-pindb', FAILOVER_BENCH, ['app', 'pindb', '']);
  const plain = await startApp(bench, 'throughput-plain', FAILOVER_BENCH, ['app', 'plain', '']);
  const { pgpool, app } = await startPgpool(bench, 'transaction', 'throughput-pgpool');
  try {
    const urls: Record<ThroughputApp, string> = { pindb: pindb.url, pgpool: app.url, plain: plain.url };
    for (const side of THROUGHPUT_APPS) await checkReads(LABELS[side], urls[side], replicaPorts);
    for (const side of THROUGHPUT_APPS) await load(urls[side], WARMUP_SECONDS);
    const samples: Record<ThroughputApp, ThroughputSample[]> = { pindb: [], pgpool: [], plain: [] };
    const ratios: ThroughputResult['ratios'] = [];
    console.log(
      `\nthroughput: GET /read, ${CONNECTIONS} connections, ${DURATION} s per app and round, ${ROUNDS} rounds (after ${WARMUP_SECONDS} s of warm-up each)`,
    );
    for (let round = 0; round < ROUNDS; round++) {
      const got: Partial<Record<ThroughputApp, ThroughputSample>> = {};
      for (const side of roundOrder(THROUGHPUT_APPS, round)) {
        const cpu0 = pgpool.cpuSeconds();
        const t0 = performance.now();
        const result = await load(urls[side], DURATION);
        const elapsed = (performance.now() - t0) / 1000;
        const sample: ThroughputSample = { rps: result.requests.total / elapsed, p50: result.latency.p50, p99: result.latency.p99 };
        if (side === 'pgpool') sample.proxyCpuMsPer1k = ((pgpool.cpuSeconds() - cpu0) * 1e6) / result.requests.total;
        got[side] = sample;
        samples[side].push(sample);
      }
      const rps = (side: ThroughputApp) => got[side]!.rps;
      ratios.push({ pgpoolVsPindb: rps('pgpool') / rps('pindb'), pindbVsPlain: rps('pindb') / rps('plain'), pgpoolVsPlain: rps('pgpool') / rps('plain') });
      console.log(
        `  round ${round + 1}: ` +
          THROUGHPUT_APPS.map((side) => `${LABELS[side]} ${rps(side).toFixed(0)} req/s (p50 ${got[side]!.p50} / p99 ${got[side]!.p99} ms)`).join(', ') +
          `; pgpool / PinDb ×${ratios.at(-1)!.pgpoolVsPindb.toFixed(2)}; pgpool's processes ${got.pgpool!.proxyCpuMsPer1k!.toFixed(0)} CPU ms per 1000 requests`,
      );
    }
    return { samples, ratios };
  } finally {
    await pindb.worker.stop();
    await plain.worker.stop();
    await stopPgpool(bench, pgpool, app);
  }
}

// ------------------------------------------------------------------ read-your-writes

type ConsistencyVariant = 'pindb' | LoadBalanceOnWrite;

interface ConsistencyRow {
  lagMs: number;
  variant: ConsistencyVariant;
  result: RunResult;
}

const variantLabel = (variant: ConsistencyVariant) => (variant === 'pindb' ? 'PinDb lsn (default)' : `pgpool, disable_load_balance_on_write '${variant}'`);
const share = (part: number, whole: number) => (whole ? (100 * part) / whole : 0);

async function consistency(bench: Bench): Promise<ConsistencyRow[]> {
  const { cluster } = bench;
  const replicaPorts = cluster.replicas.map((replica) => replica.port);
  const apps = new Map<ConsistencyVariant, App>();
  const pools: { pgpool: PgpoolServer; app: App }[] = [];
  const rows: ConsistencyRow[] = [];
  try {
    apps.set('pindb', await startApp(bench, 'consistency-pindb', CONSISTENCY_BENCH, ['app', 'lsn']));
    for (const mode of MODES) {
      const started = await startPgpool(bench, mode, `consistency-pgpool-${mode}`);
      pools.push(started);
      apps.set(mode, started.app);
    }
    for (const [variant, app] of apps) await checkLatest(variantLabel(variant), app.url, replicaPorts);
    console.log(
      `\nread-your-writes: ${CLIENTS} clients, think ${THINK_MS} ms ± 50 %, 10 % writes, ${CONSISTENCY_SECONDS} s measured per run after the lag + 2 s`,
    );
    let firstClient = 1;
    for (const lagMs of LAGS) {
      await Promise.all(cluster.replicas.map((_, i) => cluster.setApplyDelay(i, lagMs)));
      console.log(`replicas ${lagMs} ms behind:`);
      for (const [variant, app] of apps) {
        const result = await runClients({
          url: app.url,
          firstClient,
          clients: CLIENTS,
          thinkMs: THINK_MS,
          thinkJitter: 0.5,
          writeShare: 0.1,
          warmupMs: lagMs + 2000,
          durationMs: CONSISTENCY_SECONDS * 1000,
          lagMs,
          replicaPorts,
          primaryPort: cluster.primary.port,
          seed: 1,
        });
        firstClient += CLIENTS;
        rows.push({ lagMs, variant, result });
        console.log(
          `  ${pad(variantLabel(variant), 52)} ${result.reads} reads: replicas ${share(result.replicaReads, result.reads).toFixed(1)} % (oracle ${share(result.oracleReads, result.reads).toFixed(1)} %), ` +
            `stale ${result.staleReads}, p50 ${result.latencyP50.toFixed(1)} / p99 ${result.latencyP99.toFixed(1)} ms` +
            (result.errors ? `; ${result.errors} ERRORS, first: ${result.firstError}` : ''),
        );
      }
    }
    return rows;
  } finally {
    await Promise.all(cluster.replicas.map((_, i) => cluster.setApplyDelay(i, 0)));
    await cluster.waitForReplay();
    await apps.get('pindb')?.worker.stop();
    for (const { pgpool, app } of pools) await stopPgpool(bench, pgpool, app);
  }
}

function consistencyTable(rows: ConsistencyRow[]): string {
  const lines = ['| replica lag | variant | reads | served by replicas | oracle | stale own-reads |', '|---|---|---|---|---|---|'];
  for (const { lagMs, variant, result: r } of rows) {
    const stale = r.staleReads === 0 ? '0' : `${r.staleReads} (${share(r.staleReads, r.reads).toFixed(1)} %)`;
    lines.push(
      `| ${lagMs} ms | ${variantLabel(variant)} | ${r.reads} | ${share(r.replicaReads, r.reads).toFixed(1)} % | ${share(r.oracleReads, r.reads).toFixed(1)} % | ${stale} |`,
    );
  }
  return lines.join('\n');
}

// ------------------------------------------------------------------ failover

interface FailoverRun {
  scenario: Scenario;
  side: Side;
  figures: PhaseFigures[];
  /** ms from the fault to the replica out of the rotation (PinDb's report: down; pgpool: its node down). */
  outAfterMs?: number;
  /** ms from the recovery to the replica back (PinDb: readable; pgpool: its node up again). */
  backAfterMs?: number;
  /** ms from the recovery to the first read replica 0 served. */
  servedAfterMs?: number;
  failures: Record<string, number>;
}

const sleepUntil = (at: number) => new Promise((resolve) => setTimeout(resolve, Math.max(0, at - performance.now())));
const seconds = (ms: number | undefined) => (ms === undefined ? '—' : `${(ms / 1000).toFixed(2)} s`);

async function failoverRun(bench: Bench, scenario: Scenario, side: Side): Promise<FailoverRun> {
  const { cluster } = bench;
  const replicaPort = cluster.replicas[0].port;
  let app: App;
  let pgpool: PgpoolServer | undefined;
  if (side === 'pindb') app = await startApp(bench, `${scenario}-pindb`, FAILOVER_BENCH, ['app', 'pindb', '']);
  else ({ app, pgpool } = await startPgpool(bench, 'transaction', `${scenario}-pgpool`));
  const injected = fault(scenario, cluster, 0, 'steady');
  try {
    await checkReads(
      LABELS[side],
      app.url,
      cluster.replicas.map((replica) => replica.port),
    );
    const health = side === 'pindb' ? new HealthWatch(app.url, replicaPort) : undefined;
    const nodes = pgpool && new PgpoolNodeWatch(pgpool, replicaPort);
    const t0 = performance.now() + 1000;
    const load = runLoad({ url: app.url, clients: FAILOVER_CONNECTIONS, timeoutMs: CLIENT_TIMEOUT, t0, endAt: t0 + FAILOVER_SECONDS * 1000 });
    await sleepUntil(t0 + FAULT_AT * 1000);
    const faultAt = performance.now() - t0;
    await injected.inject();
    await sleepUntil(t0 + RECOVER_AT * 1000);
    const recoverAt = performance.now() - t0;
    await injected.recover();
    const records: RequestRecord[] = (await load).filter((record) => record.start >= 0);
    await health?.stop();
    await nodes?.stop();
    const out = health ? health.firstAfter('down', t0 + faultAt) : nodes!.firstAfter(['down'], t0 + faultAt);
    const back = health ? health.firstAfter('readable', t0 + recoverAt) : nodes!.firstAfter(['up', 'waiting'], t0 + recoverAt);
    const served = records.filter((record) => record.port === replicaPort && record.start >= recoverAt).map((record) => record.start + record.latency);
    const failures: Record<string, number> = {};
    for (const record of records) if (record.error) failures[record.error.slice(0, 80)] = (failures[record.error.slice(0, 80)] ?? 0) + 1;
    const run: FailoverRun = {
      scenario,
      side,
      figures: phases(records, faultAt, recoverAt, side === 'pindb'),
      outAfterMs: out && out.at - t0 - faultAt,
      backAfterMs: back && back.at - t0 - recoverAt,
      servedAfterMs: served.length ? Math.min(...served) - recoverAt : undefined,
      failures,
    };
    console.log(`\n${scenario} / ${LABELS[side]}: ${phaseLine(run.figures)}`);
    console.log(
      `  out of the rotation ${seconds(run.outAfterMs)} after the fault; back ${seconds(run.backAfterMs)} after the recovery; ` +
        `served a read again ${seconds(run.servedAfterMs)} after it${run.servedAfterMs === undefined ? ' (not within the load)' : ''}`,
    );
    if (nodes) console.log(`  pgpool's node view of replica 0: ${nodes.changes.map((change) => `${seconds(change.at - t0)} ${change.status}`).join(' → ')}`);
    const failureList = Object.entries(failures);
    if (failureList.length) console.log(`  failures: ${failureList.map(([error, count]) => `${count} × ${error}`).join('; ')}`);
    return run;
  } finally {
    await injected.undo();
    if (pgpool) await stopPgpool(bench, pgpool, app);
    else await app.worker.stop();
    await cluster.waitForReplay();
  }
}

function timingTable(runs: FailoverRun[]): string {
  const lines = ['| fault | variant | failed requests | out of the rotation | back after the recovery | served a read again |', '|---|---|---|---|---|---|'];
  for (const r of runs) {
    const failed = r.figures.reduce((sum, f) => sum + f.failed, 0);
    const total = r.figures.reduce((sum, f) => sum + f.requests, 0);
    lines.push(
      `| ${r.scenario} | ${LABELS[r.side]} | ${failed} of ${total} | ${seconds(r.outAfterMs)} | ${seconds(r.backAfterMs)} | ${seconds(r.servedAfterMs)} |`,
    );
  }
  return lines.join('\n');
}

// ------------------------------------------------------------------ main

async function main(): Promise<void> {
  const started = performance.now();
  const found = findPgpool();
  if (!found.binary) {
    console.log(`SKIP: bench:pgpool needs pgpool-II: ${found.missing}`);
    return;
  }
  const { cluster, workers, env, stop } = await startBenchCluster();
  const bench: Bench = { cluster, workers, env, binary: found.binary, pools: [] };
  try {
    await createBenchWrites(cluster);
    console.log(
      `${found.version} (${found.binary}); node ${process.version}; load average ${loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')} (${cpus().length} cores)`,
    );
    console.log(
      `cluster: primary :${cluster.primary.port}, replicas ${cluster.replicas.map((replica) => ':' + replica.port).join(', ')} (replica 0 takes the faults)`,
    );
    console.log(
      'pgpool.conf (what matters; plus backends 0 = the primary, 1–2 = the replicas, trust, no pool_passwd, pid/socket/log in a temp dir):\n' +
        Object.entries(keySettings('transaction', DELAY_THRESHOLD, STATEMENT_LEVEL))
          .map(([key, value]) => `  ${key} = ${value}`)
          .join('\n'),
    );

    const results: Record<string, unknown> = { delayThresholdBytes: DELAY_THRESHOLD, statementLevel: STATEMENT_LEVEL, version: found.version };
    const summary: string[] = [];
    if (PARTS.includes('throughput')) {
      const { samples, ratios } = await throughput(bench);
      const med = (side: ThroughputApp, key: keyof ThroughputSample) => median(samples[side].map((sample) => sample[key] ?? NaN));
      const ratio = (key: keyof ThroughputResult['ratios'][number]) =>
        `×${median(ratios.map((r) => r[key])).toFixed(2)} (rounds ${ratios.map((r) => r[key].toFixed(2)).join(', ')})`;
      console.log(`\n| app | req/s (median) | p50 ms | p99 ms |\n|---|---|---|---|`);
      for (const side of THROUGHPUT_APPS) console.log(`| ${LABELS[side]} | ${med(side, 'rps').toFixed(0)} | ${med(side, 'p50')} | ${med(side, 'p99')} |`);
      summary.push(
        `RESULT: GET /read req/s, pgpool / PinDb: ${ratio('pgpoolVsPindb')}; PinDb / plain: ${ratio('pindbVsPlain')}; pgpool / plain: ${ratio('pgpoolVsPlain')}; ` +
          `pgpool's processes ${med('pgpool', 'proxyCpuMsPer1k').toFixed(0)} CPU ms per 1000 requests`,
      );
      results.throughput = { samples, ratios, rounds: ROUNDS, durationS: DURATION, connections: CONNECTIONS };
    }
    if (PARTS.includes('consistency')) {
      const rows = await consistency(bench);
      console.log(`\n${consistencyTable(rows)}\n`);
      for (const lagMs of LAGS) {
        const at = rows.filter((row) => row.lagMs === lagMs);
        summary.push(
          `RESULT: stale own-reads at ${lagMs} ms lag: ${at.map(({ variant, result: r }) => `${variant === 'pindb' ? 'PinDb' : variant} ${r.staleReads} (replicas ${share(r.replicaReads, r.reads).toFixed(0)} %)`).join(', ')}`,
        );
      }
      results.consistency = rows.map(({ lagMs, variant, result }) => ({ lagMs, variant, label: variantLabel(variant), ...result }));
    }
    if (PARTS.includes('failover')) {
      const runs: FailoverRun[] = [];
      console.log(
        `\nfailover: ${FAILOVER_CONNECTIONS} clients on GET /read for ${FAILOVER_SECONDS} s; fault at ${FAULT_AT} s, recovery at ${RECOVER_AT} s; unanswered after ${CLIENT_TIMEOUT} ms = failed`,
      );
      for (const [s, scenario] of SCENARIOS.entries()) for (const side of roundOrder(SIDES, s)) runs.push(await failoverRun(bench, scenario, side));
      const rows: TableRow[] = runs.flatMap(({ scenario, side, figures }) => figures.map((f) => ({ scenario, variant: LABELS[side], figures: f })));
      console.log(`\n${markdownTable(rows)}\n\n${timingTable(runs)}\n`);
      for (const run of runs) {
        summary.push(`RESULT: ${run.scenario} / ${LABELS[run.side]}: ${run.figures.reduce((sum, f) => sum + f.failed, 0)} failed requests`);
      }
      results.failover = runs;
    }
    for (const line of summary) console.log(line);
    await saveResults('pgpool', results);
    console.log(`total ${((performance.now() - started) / 1000).toFixed(0)} s`);
  } finally {
    for (const worker of workers) await worker.stop().catch((error) => console.error(error));
    for (const pgpool of [...bench.pools]) await pgpool.stop();
    await stop();
  }
}

runBench(process.argv[2] === 'pgpool-app', () => servePgpoolApp(Number(process.argv[3])), main);
