// Read-your-writes across requests, side by side: how many reads each way of keeping a client's
// own writes visible lets the replicas serve, and how many of its reads miss its own last write.
//
// Simulated clients (bench/consistency-clients.ts), each with its own cookie jar: think THINK ms on
// average (uniform within ± THINK_JITTER of it), then write (POST, WRITE_SHARE of requests) or read
// back their own latest row (GET), which says which server answered. Two scenarios, replicas LAGS
// ms behind (recovery_min_apply_delay); in each, one run per variant: PinDb lsn, PinDb time 15 s,
// PinDb time 2 s, and plain TypeORM `replication` without PinDb (no stickiness: the baseline an app
// without nestjs-pindb has; PinDb with tokens off would route these one-query requests the same
// way). The oracle sends a read to a replica iff at least the lag has passed since the client's
// last acknowledged write, or it never wrote.
//
// Run: npm run bench:consistency   (goals: lsn 0 stale own-reads, replica share within 5 points of the oracle)
// Env: CLIENTS (default 200), DURATION measured seconds per run (default 15), WARMUP seconds
//      (default per run: the longest the variant remembers a write, lag or pin window, + 2 s, so
//      the measured window is in steady state), THINK ms (500), THINK_JITTER (0.5), WRITE_SHARE
//      (0.1), LAGS ms (300,3000), VARIANTS (comma-separated subset of lsn,time15,time2,plain)
//
// Each app runs in its own child process (bench/worker.ts); the clients run in this one, one run at
// a time. Each run prints the app's and this process's CPU share and how late think timers fired,
// to show that neither side is saturated (which would stretch the think times).
//
// replayWaitMs: the variants wait0, wait50, wait200 and wait500 are lsn with that replayWaitMs (a
// read whose token no replica has replayed waits up to so long for one before it goes to the
// primary). They run at WAIT_LAGS ms of lag (default 100,300,3000), once per client profile of
// PROFILES (default fast,slow): fast: FAST_CLIENTS (40) clients thinking FAST_THINK ms (100);
// slow: CLIENTS thinking THINK ms, as above. Their table gives the token reads (those that carried a
// cookie), how many replicas served, their latency and what the wait added to it against wait0, the
// primary's reads a second, and the replay polls a second the wait cost.
//
// Then, at each lag, jobs (bench/consistency-jobs.ts, Redis at 127.0.0.1:6379 or BENCH_REDIS_URL):
// JOBS (default 200) times, JOB_RATE a second (default 20), a write and right after it a BullMQ job
// that reads the row back: with PinDbBullModule ('sticky', 'delayed'), with the token carried by
// hand (routing.token() in the data, @PinningContext on the processor), and with no token. Each
// job says which server answered and whether it saw the row. VARIANTS also takes job-sticky,
// job-delayed, job-carried, job-none.
import { Agent } from 'node:http';
import { fileURLToPath } from 'node:url';
import type { PgCluster } from '../lib/testing/index.js';
import { runBench, startBenchCluster } from './cluster-check.js';
import { createBenchWrites, isWaitVariant, LABELS, PIN_SECONDS, serveConsistencyApp, Variant, VARIANTS, WatchCounts } from './consistency-app.js';
import { RunResult, runClients, send } from './consistency-clients.js';
import { JOB_LABELS, JOB_VARIANTS, JobRunResult, JobVariant, serveJobsApp } from './consistency-jobs.js';
import { CookieJar } from './cookie-jar.js';
import { saveResults } from './results.js';
import { pad } from './stats.js';
import { BenchWorker } from './worker.js';

const CLIENTS = Number(process.env.CLIENTS ?? 200);
const DURATION = Number(process.env.DURATION ?? 15);
const WARMUP = process.env.WARMUP === undefined ? undefined : Number(process.env.WARMUP);
const THINK_MS = Number(process.env.THINK ?? 500);
const THINK_JITTER = Number(process.env.THINK_JITTER ?? 0.5);
const WRITE_SHARE = Number(process.env.WRITE_SHARE ?? 0.1);
const LAGS = (process.env.LAGS ?? '300,3000').split(',').map(Number);
const WAIT_LAGS = (process.env.WAIT_LAGS ?? '100,300,3000').split(',').map(Number);
const RUN_VARIANTS = process.env.VARIANTS ? VARIANTS.filter((v) => process.env.VARIANTS!.split(',').includes(v)) : VARIANTS;

/** Who the simulated clients are: how many, and how long they think between requests. */
interface Profile {
  name: string;
  clients: number;
  thinkMs: number;
}

const PROFILE_CHOICES: Record<string, Profile> = {
  fast: { name: 'fast', clients: Number(process.env.FAST_CLIENTS ?? 40), thinkMs: Number(process.env.FAST_THINK ?? 100) },
  slow: { name: 'slow', clients: CLIENTS, thinkMs: THINK_MS },
};
const DEFAULT_PROFILE = PROFILE_CHOICES.slow;
const PROFILES = (process.env.PROFILES ?? 'fast,slow').split(',').map((name) => {
  const profile = PROFILE_CHOICES[name];
  if (!profile) throw new Error(`PROFILES: unknown profile ${name} (fast, slow)`);
  return profile;
});
const RUN_JOB_VARIANTS = process.env.VARIANTS ? JOB_VARIANTS.filter((v) => process.env.VARIANTS!.split(',').includes(v)) : JOB_VARIANTS;
const JOBS = Number(process.env.JOBS ?? 200);
const JOB_RATE = Number(process.env.JOB_RATE ?? 20);
const SELF = fileURLToPath(import.meta.url);

interface App {
  worker: BenchWorker;
  url: string;
}

interface Ports {
  replicaPorts: number[];
  primaryPort: number;
}

/** Before measuring: an unpinned read is served by a replica, a write answers its id (and, with PinDb, a cookie). */
async function checkApp(variant: Variant, url: string, { replicaPorts }: Ports): Promise<void> {
  const agent = new Agent({ keepAlive: false });
  const base = new URL(url);
  for (let i = 0; i < 4; i++) {
    const { port } = JSON.parse((await send(agent, base, 'GET', '/clients/0/latest', new CookieJar())).text) as { port: number };
    if (!replicaPorts.includes(port)) throw new Error(`${variant}: a read without a token was served by :${port}, not by a replica`);
  }
  const written = await send(agent, base, 'POST', '/clients/0/rows', new CookieJar());
  const cookie = written.setCookie?.some((line) => line.startsWith('pindb=')) ?? false;
  if (!(JSON.parse(written.text) as { id?: number }).id || cookie !== (variant !== 'plain')) {
    throw new Error(`${variant}: POST answered ${written.status} ${written.text}, ${cookie ? 'with' : 'without'} a pindb cookie`);
  }
}

/** How long a row written on the primary takes to show on replica 0: the lag the scenario really has. */
async function measureLag(cluster: PgCluster): Promise<number> {
  const [{ id }] = await cluster.query<{ id: number }>('primary', 'INSERT INTO bench_write (client) VALUES (0) RETURNING id');
  const t0 = performance.now();
  for (;;) {
    const [{ seen }] = await cluster.query<{ seen: boolean }>(0, 'SELECT coalesce(max(id), 0) >= $1 AS seen FROM bench_write WHERE client = 0', [id]);
    if (seen) return performance.now() - t0;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

function cpuSeconds(usage: NodeJS.CpuUsage): number {
  return (usage.user + usage.system) / 1e6;
}

interface Row {
  lagMs: number;
  variant: Variant;
  profile: Profile;
  result: RunResult;
}

const share = (part: number, whole: number) => (whole ? (100 * part) / whole : 0);
const percent = (value: number) => `${value.toFixed(1)} %`;
const points = (value: number) => `${value >= 0.05 ? '+' : value <= -0.05 ? '−' : '±'}${Math.abs(value).toFixed(1)}`;

async function run(app: App, variant: Variant, lagMs: number, firstClient: number, ports: Ports, profile: Profile): Promise<RunResult> {
  const windowMs = Math.max(lagMs, (PIN_SECONDS[variant] ?? 0) * 1000);
  const warmupMs = WARMUP !== undefined ? WARMUP * 1000 : windowMs + 2000;
  const app0 = await app.worker.call<NodeJS.CpuUsage>('cpu');
  const self0 = process.cpuUsage();
  const t0 = performance.now();
  // The replay polls of the measured window only: counted from the end of the warm-up.
  const watchAtMeasure = new Promise<WatchCounts>((resolve) => setTimeout(() => resolve(app.worker.call<WatchCounts>('watch')), warmupMs));
  const result = await runClients({
    url: app.url,
    firstClient,
    clients: profile.clients,
    thinkMs: profile.thinkMs,
    thinkJitter: THINK_JITTER,
    writeShare: WRITE_SHARE,
    warmupMs,
    durationMs: DURATION * 1000,
    lagMs,
    ...ports,
    seed: 1,
  });
  const elapsed = (performance.now() - t0) / 1000;
  const watch1 = await app.worker.call<WatchCounts>('watch');
  result.replayPolls = watch1.polls - (await watchAtMeasure).polls;
  const app1 = await app.worker.call<NodeJS.CpuUsage>('cpu');
  const appCpu = cpuSeconds(app1) - cpuSeconds(app0);
  const selfCpu = cpuSeconds(process.cpuUsage(self0));
  console.log(
    `  ${pad(isWaitVariant(variant) ? `${LABELS[variant]}, ${profile.name}` : LABELS[variant], 36)} warm-up ${(warmupMs / 1000).toFixed(1)} s: ${result.reads} reads, ${result.writes} writes, ` +
      `${result.rate.toFixed(0)} req/s, latency p50 ${result.latencyP50.toFixed(1)} / p99 ${result.latencyP99.toFixed(1)} ms, ` +
      `timers late ${result.timerLateMs.toFixed(1)} ms; CPU app ${percent(share(appCpu, elapsed))}, clients ${percent(share(selfCpu, elapsed))} of one core; ` +
      `replica ${percent(share(result.replicaReads, result.reads))}, oracle ${percent(share(result.oracleReads, result.reads))} ` +
      `(safe but on the primary ${result.primaryWhenSafe}, unsafe but on a replica ${result.replicaWhenUnsafe}), ` +
      `${result.readsWithCookie} sent a cookie (replica ${percent(share(result.tokenReplicaReads, result.tokenReads))}, ` +
      `p50 ${result.tokenLatencyP50.toFixed(1)} / p99 ${result.tokenLatencyP99.toFixed(1)} ms), replay polls ${result.replayPolls}, stale ${result.staleReads}` +
      (result.errors ? `; ${result.errors} ERRORS, first: ${result.firstError}` : ''),
  );
  if (result.staleOnPrimary > 0) throw new Error(`${variant}: ${result.staleOnPrimary} stale reads served by the primary: the bench is wrong`);
  return result;
}

interface JobRow {
  lagMs: number;
  variant: JobVariant;
  result: JobRunResult;
}

async function runJobs(worker: BenchWorker, variant: JobVariant): Promise<JobRunResult> {
  const result = await worker.call<JobRunResult>('burst', { jobs: JOBS, rate: JOB_RATE });
  console.log(
    `  ${pad(JOB_LABELS[variant], 40)} ${result.jobs} jobs: replica ${percent(share(result.replicaReads, result.jobs))}, stale ${result.staleReads}, ` +
      `put back ${result.delays} times, added → done p50 ${result.latencyP50.toFixed(0)} / p99 ${result.latencyP99.toFixed(0)} ms` +
      (result.errors ? `; ${result.errors} ERRORS, first: ${result.firstError}` : ''),
  );
  return result;
}

function jobTable(rows: JobRow[]): string {
  const lines = ['| replica lag | job variant | jobs | reads on replicas | stale reads | put back | added → done p50 / p99 |', '|---|---|---|---|---|---|---|'];
  for (const { lagMs, variant, result: r } of rows) {
    const stale = r.staleReads === 0 ? '0' : `${r.staleReads} (${percent(share(r.staleReads, r.jobs))})`;
    lines.push(
      `| ${lagMs} ms | ${JOB_LABELS[variant]} | ${r.jobs} | ${percent(share(r.replicaReads, r.jobs))} | ${stale} | ${r.delays} | ${r.latencyP50.toFixed(0)} / ${r.latencyP99.toFixed(0)} ms |`,
    );
  }
  return lines.join('\n');
}

function table(rows: Row[]): string {
  const lines = ['| replica lag | variant | reads | served by replicas | oracle | replicas − oracle | stale own-reads |', '|---|---|---|---|---|---|---|'];
  for (const { lagMs, variant, result: r } of rows.filter((row) => !isWaitVariant(row.variant))) {
    const replica = share(r.replicaReads, r.reads);
    const oracle = share(r.oracleReads, r.reads);
    const stale = r.staleReads === 0 ? '0' : `${r.staleReads} (${percent(share(r.staleReads, r.reads))})`;
    lines.push(`| ${lagMs} ms | ${LABELS[variant]} | ${r.reads} | ${percent(replica)} | ${percent(oracle)} | ${points(replica - oracle)} | ${stale} |`);
  }
  return lines.join('\n');
}

/** The replayWaitMs runs: what each wait buys (token reads on replicas) and costs (their latency, against wait0 at the same lag and clients). */
function waitTable(rows: Row[]): string {
  const lines = [
    '| replica lag | clients | replayWaitMs | token reads | token reads on replicas | all reads on replicas | stale | token-read latency p50 / p99 | added vs 0 p50 / p99 | primary reads/s | replay polls/s |',
    '|---|---|---|---|---|---|---|---|---|---|---|',
  ];
  const waits = rows.filter((row) => isWaitVariant(row.variant));
  for (const { lagMs, variant, profile, result: r } of waits) {
    const base = waits.find((row) => row.lagMs === lagMs && row.profile === profile && row.variant === 'wait0')?.result;
    const added = base ? `${points(r.tokenLatencyP50 - base.tokenLatencyP50)} / ${points(r.tokenLatencyP99 - base.tokenLatencyP99)} ms` : '—';
    const stale = r.staleReads === 0 ? '0' : `${r.staleReads} (${percent(share(r.staleReads, r.reads))})`;
    lines.push(
      `| ${lagMs} ms | ${profile.name}: ${profile.clients} × ${profile.thinkMs} ms | ${LABELS[variant].replace('lsn, replayWaitMs: ', '')} | ${r.tokenReads} | ` +
        `${percent(share(r.tokenReplicaReads, r.tokenReads))} | ${percent(share(r.replicaReads, r.reads))} | ${stale} | ` +
        `${r.tokenLatencyP50.toFixed(1)} / ${r.tokenLatencyP99.toFixed(1)} ms | ${added} | ${((r.reads - r.replicaReads) / DURATION).toFixed(1)} | ` +
        `${((r.replayPolls ?? 0) / DURATION).toFixed(1)} |`,
    );
  }
  return lines.join('\n');
}

async function main(): Promise<void> {
  const t0 = performance.now();
  const { cluster, workers, env, stop } = await startBenchCluster();
  try {
    const ports: Ports = { replicaPorts: cluster.replicas.map((r) => r.port), primaryPort: cluster.primary.port };
    console.log(`cluster: primary :${ports.primaryPort}, replicas ${ports.replicaPorts.map((p) => ':' + p).join(', ')}`);
    await createBenchWrites(cluster);
    // All at once, and settled before anything fails: every worker that started is then stopped with the cluster.
    const apps = new Map<Variant, App>();
    const started = await Promise.allSettled(
      RUN_VARIANTS.map(async (variant) => {
        const [worker, { url }] = await BenchWorker.start<{ url: string }>(variant, SELF, ['app', variant], env);
        workers.push(worker);
        apps.set(variant, { worker, url });
        await checkApp(variant, url, ports);
      }),
    );
    const jobApps = new Map<JobVariant, BenchWorker>();
    started.push(
      ...(await Promise.allSettled(
        RUN_JOB_VARIANTS.map(async (variant) => {
          const [worker] = await BenchWorker.start(variant, SELF, ['jobs', variant], env);
          workers.push(worker);
          jobApps.set(variant, worker);
        }),
      )),
    );
    for (const outcome of started) if (outcome.status === 'rejected') throw outcome.reason;
    console.log(`apps up and checked: ${[...RUN_VARIANTS, ...RUN_JOB_VARIANTS].join(', ')}`);
    console.log(
      `${CLIENTS} clients, think ${THINK_MS} ms ± ${percent(THINK_JITTER * 100)} (uniform), ${percent(WRITE_SHARE * 100)} writes, ${DURATION} s measured per run` +
        `; replayWaitMs variants: ${PROFILES.map((p) => `${p.name} ${p.clients} × ${p.thinkMs} ms`).join(', ')}, at ${WAIT_LAGS.join(', ')} ms`,
    );

    const rows: Row[] = [];
    const jobRows: JobRow[] = [];
    let firstClient = 1;
    const classic = RUN_VARIANTS.filter((variant) => !isWaitVariant(variant));
    const waiting = RUN_VARIANTS.filter(isWaitVariant);
    const lags = [...new Set([...(classic.length + RUN_JOB_VARIANTS.length > 0 ? LAGS : []), ...(waiting.length > 0 ? WAIT_LAGS : [])])].sort((a, b) => a - b);
    for (const lagMs of lags) {
      await Promise.all(cluster.replicas.map((_, i) => cluster.setApplyDelay(i, lagMs)));
      console.log(
        `\nreplicas ${lagMs} ms behind (recovery_min_apply_delay; a row written now shows on replica 0 after ${(await measureLag(cluster)).toFixed(0)} ms):`,
      );
      const runs: [Variant, Profile][] = [
        ...(LAGS.includes(lagMs) ? classic.map((variant): [Variant, Profile] => [variant, DEFAULT_PROFILE]) : []),
        ...(WAIT_LAGS.includes(lagMs) ? PROFILES.flatMap((profile) => waiting.map((variant): [Variant, Profile] => [variant, profile])) : []),
      ];
      for (const [variant, profile] of runs) {
        rows.push({ lagMs, variant, profile, result: await run(apps.get(variant)!, variant, lagMs, firstClient, ports, profile) });
        firstClient += profile.clients;
      }
      if (!LAGS.includes(lagMs)) continue;
      if (RUN_JOB_VARIANTS.length > 0) console.log(`  jobs: ${JOBS} writes, each followed at once by a job that reads its row, ${JOB_RATE} a second:`);
      for (const variant of RUN_JOB_VARIANTS) jobRows.push({ lagMs, variant, result: await runJobs(jobApps.get(variant)!, variant) });
    }

    if (rows.some((row) => isWaitVariant(row.variant))) {
      console.log(
        `\nreplayWaitMs (token reads: reads that carried a cookie; added: against replayWaitMs 0 at the same lag and clients):\n\n${waitTable(rows)}\n`,
      );
    }
    if (rows.some((row) => !isWaitVariant(row.variant))) {
      console.log(`\n${table(rows)}\n`);
      console.log(
        "(no stickiness: plain TypeORM `replication`, without PinDb; oracle: a read goes to a replica iff the lag has passed since its client's last acknowledged write)\n",
      );
    }
    if (jobRows.length > 0)
      console.log(`${jobTable(jobRows)}\n\n(stale: the job did not see the row written right before it was added; put back: moveToDelayed for its token)\n`);
    for (const { lagMs, variant, result: r } of rows) {
      if (variant !== 'lsn') continue;
      const diff = share(r.replicaReads, r.reads) - share(r.oracleReads, r.reads);
      const met = r.staleReads === 0 && diff >= -5 && r.errors === 0;
      console.log(
        `RESULT: lsn at ${lagMs} ms lag: ${r.staleReads} stale own-reads, replica share ${points(diff)} points from the oracle's (goal: 0, and at most 5 below): ${met ? 'met' : 'NOT met'}`,
      );
    }
    const errors = [...rows, ...jobRows].reduce((sum, row) => sum + row.result.errors, 0);
    if (errors) console.log(`WARNING: ${errors} requests failed (see the runs above)`);
    // Every run's row as measured, for bench/charts.ts (a variant added to VARIANTS shows up there too).
    await saveResults('consistency', {
      clients: CLIENTS,
      durationS: DURATION,
      thinkMs: THINK_MS,
      writeShare: WRITE_SHARE,
      rows: rows.map(({ lagMs, variant, result }) => ({ lagMs, variant, label: LABELS[variant], ...result })),
      jobRows: jobRows.map(({ lagMs, variant, result }) => ({ lagMs, variant, label: JOB_LABELS[variant], ...result })),
    });
    console.log(`total ${((performance.now() - t0) / 1000).toFixed(0)} s`);
  } finally {
    await stop();
  }
}

runBench(
  process.argv[2] === 'app' || process.argv[2] === 'jobs',
  (cluster) => (process.argv[2] === 'jobs' ? serveJobsApp(process.argv[3] as JobVariant, cluster) : serveConsistencyApp(process.argv[3] as Variant, cluster)),
  main,
);
