// Failover under load: what the clients of a GET route see when one of two replicas dies, freezes
// or falls behind, with PinDb and with plain TypeORM `replication`; and (the promote scenario,
// bench/failover-promote.ts) what reads and writes see when the primary dies and a replica is promoted.
//
// Each run: a fresh app (bench/failover-app.ts, in a child process) under CONNECTIONS closed-loop
// clients (bench/failover-load.ts, in this process) for DURATION s after a WARMUP; at FAULT_AT s
// replica 0 is killed (SIGKILL), frozen (SIGSTOP), or has its replay paused while a writer fills
// WAL past LAG_LIMIT; at RECOVER_AT s it is restarted, thawed, or resumed. Printed per phase
// (before / during / after): requests, failed ones (HTTP errors, socket errors, and requests still
// unanswered after CLIENT_TIMEOUT ms, which the client abandons), p50 / p99 / max latency of the
// others, requests PinDb retried (its per-request stats), and requests slower than 1 s. Then, from
// the health monitor's report (polled every 25 ms) and the answers: when the replica was marked
// down or lagging, when it was re-admitted, when it served a read again. If it has not served one
// by the end of the load, single reads go on (not counted in the phases) until it does.
//
// The promote scenario, on a fresh cluster per run (a promotion cannot be undone): 1 request in
// WRITE_EVERY is a POST /write of one row; at FAULT_AT s the primary is killed (SIGKILL) and the
// replica that received the most WAL promoted at once (RECOVER_AT unused). PinDb runs with
// `followPromotion: true`; plain TypeORM runs too, cheaply: its writes fail until the app is
// reconfigured, which it never is here. Printed per phase: reads and writes, failed ones; when
// writes succeeded again; and, counted on the new primary, acknowledged writes missing or doubled.
//
// Run: npm run bench:failover   (goals: 0 failed requests with PinDb; a replica past maxLagBytes
//                                excluded within 2 health intervals of the write that put it there;
//                                promote: 0 failed reads, no acknowledged write lost or applied twice)
// Env: DURATION (20), WARMUP (1), FAULT_AT (5), RECOVER_AT (12) seconds; CONNECTIONS (50);
//      CLIENT_TIMEOUT ms (5000); LAG_LIMIT bytes (1048576, the lag scenario's maxLagBytes);
//      SCENARIOS (kill,freeze,lag,promote); VARIANTS (pindb,plain; the lag scenario runs PinDb only);
//      FOLLOW_UP most seconds to wait for the replica after the load (70); LAG_WRITER: when the
//      lag scenario's writer starts, 'steady' (with the run) or 'at-pause' (the primary idle before);
//      WRITE_EVERY (5: the promote scenario's share of writes, 1 in 5)
import { Agent } from 'node:http';
import { fileURLToPath } from 'node:url';
import { HealthOptions } from '../lib/index.js';
import type { PgCluster } from '../lib/testing/index.js';
import { runBench, startBenchCluster } from './cluster-check.js';
import { FailoverVariant, serveFailoverApp, VARIANT_LABELS } from './failover-app.js';
import { createBallast, fault, Scenario, WriterStart } from './failover-faults.js';
import { checkReplicaReads, getRead, RequestRecord, runLoad } from './failover-load.js';
import { markdownTable, PhaseFigures, phaseLine, phases, TableRow } from './failover-phases.js';
import { promoteRuns } from './failover-promote.js';
import { perSecond, SecondBucket } from './failover-timeline.js';
import { HealthWatch } from './failover-watch.js';
import { saveResults } from './results.js';
import { BenchWorker } from './worker.js';

const DURATION = Number(process.env.DURATION ?? 20);
const WARMUP = Number(process.env.WARMUP ?? 1);
const FAULT_AT = Number(process.env.FAULT_AT ?? 5);
const RECOVER_AT = Number(process.env.RECOVER_AT ?? 12);
const CONNECTIONS = Number(process.env.CONNECTIONS ?? 50);
const CLIENT_TIMEOUT = Number(process.env.CLIENT_TIMEOUT ?? 5000);
const LAG_LIMIT = Number(process.env.LAG_LIMIT ?? 1024 * 1024);
const FOLLOW_UP = Number(process.env.FOLLOW_UP ?? 70);
const LAG_WRITER = (process.env.LAG_WRITER ?? 'steady') as WriterStart;
const SCENARIOS = (process.env.SCENARIOS ?? 'kill,freeze,lag,promote').split(',') as (Scenario | 'promote')[];
const VARIANTS = (process.env.VARIANTS ?? 'pindb,plain').split(',') as FailoverVariant[];
const WRITE_EVERY = Number(process.env.WRITE_EVERY ?? 5);
const SELF = fileURLToPath(import.meta.url);
/** The defaults the PinDb app runs with (HealthOptions' initialisers are the documented defaults). */
const HEALTH = new HealthOptions() as Required<HealthOptions>;

const FAULT_NAMES: Record<Scenario, [string, string]> = {
  kill: ['killReplica(0)', 'startReplica(0)'],
  freeze: ['freezeReplica(0)', 'thawReplica(0)'],
  lag: ['pauseReplay(0) + writer', 'resumeReplay(0)'],
};

interface RunResult {
  scenario: Scenario;
  variant: FailoverVariant;
  figures: PhaseFigures[];
  /** When the fault and the recovery began, ms since the load's t0. */
  faultAtMs: number;
  recoverAtMs: number;
  /** Requests that succeeded and failed per second sent, over the load. */
  timeline: SecondBucket[];
  /** PinDb: ms from the fault to the health report showing replica 0 out (down or lagging). */
  outAfterMs?: number;
  /** The lag scenario: ms from the write past the limit to the check that found the replica lagging. */
  excludedAfterMs?: number;
  /** PinDb: ms from the recovery to the health report showing replica 0 readable. */
  readableAfterMs?: number;
  /** ms from the recovery to the first answer replica 0 served. */
  servedAfterMs?: number;
}

const sleepUntil = (at: number) => new Promise((resolve) => setTimeout(resolve, Math.max(0, at - performance.now())));
const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

/** After the load, if the replica has not served a read since `since`: one read at a time until it does, for FOLLOW_UP s at most. */
async function firstServedBy(url: string, port: number, records: RequestRecord[], since: number, t0: number): Promise<number | undefined> {
  const served = records.filter((record) => record.port === port && record.start >= since).map((record) => record.start + record.latency);
  if (served.length) return Math.min(...served);
  const agent = new Agent({ keepAlive: true });
  const deadline = performance.now() + FOLLOW_UP * 1000;
  try {
    while (performance.now() < deadline) {
      const record = await getRead(agent, new URL(url), '/read', CLIENT_TIMEOUT, t0);
      if (record.port === port) return record.start + record.latency;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    return undefined;
  } finally {
    agent.destroy();
  }
}

async function run(cluster: PgCluster, workers: BenchWorker[], env: Record<string, string>, scenario: Scenario, variant: FailoverVariant): Promise<RunResult> {
  const replicaPort = cluster.replicas[0].port!;
  const maxLagBytes = scenario === 'lag' ? String(LAG_LIMIT) : '';
  const [worker, { url }] = await BenchWorker.start<{ url: string }>(`${scenario}-${variant}`, SELF, ['app', variant, maxLagBytes], env);
  workers.push(worker);
  const injected = fault(scenario, cluster, LAG_LIMIT, LAG_WRITER);
  const [injectName, recoverName] = FAULT_NAMES[scenario];
  try {
    await checkReplicaReads(
      url,
      cluster.replicas.map((replica) => replica.port!),
      CLIENT_TIMEOUT,
    );
    const watch = variant === 'pindb' ? new HealthWatch(url, replicaPort) : undefined;
    await injected.prepare();
    const t0 = performance.now() + WARMUP * 1000;
    const load = runLoad({ url, clients: CONNECTIONS, timeoutMs: CLIENT_TIMEOUT, t0, endAt: t0 + DURATION * 1000 });

    await sleepUntil(t0 + FAULT_AT * 1000);
    const faultAt = performance.now() - t0;
    await injected.inject();
    const injectedAt = performance.now() - t0;
    await sleepUntil(t0 + RECOVER_AT * 1000);
    const recoverAt = performance.now() - t0;
    await injected.recover();
    const recoveredAt = performance.now() - t0;
    const records = (await load).filter((record) => record.start >= 0);
    const servedAgain = await firstServedBy(url, replicaPort, records, recoverAt, t0);
    await watch?.stop();

    const figures = phases(records, faultAt, recoverAt, variant === 'pindb');
    const notes: string[] = [
      `${injectName} at ${seconds(faultAt)} (took ${(injectedAt - faultAt).toFixed(0)} ms); ${recoverName} at ${seconds(recoverAt)} (took ${(recoveredAt - recoverAt).toFixed(0)} ms${scenario === 'kill' ? ': the server starts and streams again' : ''})`,
    ];
    const result: RunResult = {
      scenario,
      variant,
      figures,
      faultAtMs: faultAt,
      recoverAtMs: recoverAt,
      timeline: perSecond(records),
      servedAfterMs: servedAgain === undefined ? undefined : servedAgain - recoverAt,
    };
    if (watch) {
      // The worker's times are Date.now(): the same clock as this process's, read through this offset.
      const wallOffset = Date.now() - performance.now();
      const relative = (wall: number) => wall - wallOffset - t0;
      const timeline = watch.changes.map(
        ({ at, state, replica }) => `${seconds(at - t0)} ${state}${replica.downUntil ? ` until ${seconds(relative(Date.parse(replica.downUntil)))}` : ''}`,
      );
      notes.push(`health report of replica 0: ${timeline.join(' → ')}`);
      const out = watch.firstAfter(scenario === 'lag' ? 'lagging' : 'down', faultAt + t0);
      result.outAfterMs = out && out.at - t0 - faultAt;
      if (out) notes.push(`marked ${out.state} ${(out.at - t0 - faultAt).toFixed(0)} ms after the fault${out.replica.error ? ` (${out.replica.error})` : ''}`);
      const back = watch.firstAfter('readable', recoverAt + t0);
      result.readableAfterMs = back && back.at - t0 - recoverAt;
      if (back) notes.push(`readable again ${seconds(back.at - t0 - recoverAt)} after ${recoverName}`);
      const passed = injected.passedLimit;
      if (scenario === 'lag' && passed) {
        // The first check after the pause to find it lagging: by bytes, or already by time (see README).
        const lagging = watch.changes.find((change) => change.state === 'lagging' && change.at >= faultAt + t0);
        const servedLate = records.filter((record) => record.port === replicaPort && record.start >= passed.at - t0 && record.start < recoverAt);
        notes.push(`the writer passed ${LAG_LIMIT} bytes of lag at ${seconds(passed.at - t0)} (${passed.lagBytes} bytes)`);
        if (lagging?.replica.checkedAt !== undefined) {
          const { lagBytes, lagSeconds, checkedAt } = lagging.replica;
          result.excludedAfterMs = checkedAt - passed.wall;
          const figures = `${lagBytes} bytes, ${lagSeconds?.toFixed(1)} s`;
          notes.push(
            result.excludedAfterMs < 0
              ? `it was excluded ${-result.excludedAfterMs} ms BEFORE that, by a check that read ${figures}: past maxLagSeconds, not maxLagBytes`
              : `the first check to find it lagging read ${figures} ${result.excludedAfterMs} ms after that = ${(result.excludedAfterMs / HEALTH.intervalMs).toFixed(2)} health intervals (goal ≤ 2); polled ${(lagging.at - passed.at).toFixed(0)} ms after`,
          );
        }
        // Records are in the order they ended: the last one sent is the latest start.
        const lastSent = Math.max(...servedLate.map((record) => record.start));
        notes.push(
          `reads sent after the limit was passed that replica 0 still served: ${servedLate.length}${servedLate.length ? `, the last sent ${(lastSent - (passed.at - t0)).toFixed(0)} ms after` : ''}`,
        );
      }
    }
    notes.push(
      servedAgain === undefined
        ? `replica 0 served no read within ${FOLLOW_UP} s after the load`
        : `replica 0 served a read again ${seconds(servedAgain - recoverAt)} after ${recoverName}${servedAgain > DURATION * 1000 ? ' (after the load: found by single follow-up reads)' : ''}`,
    );
    const failures = new Map<string, number>();
    for (const record of records) if (record.error) failures.set(record.error, (failures.get(record.error) ?? 0) + 1);
    if (failures.size) notes.push(`failures: ${[...failures].map(([error, count]) => `${count} × ${error.slice(0, 80)}`).join('; ')}`);

    console.log(`\n${scenario} / ${VARIANT_LABELS[variant]}: ${phaseLine(figures)}`);
    for (const note of notes) console.log(`  ${note}`);
    return result;
  } finally {
    await injected.undo();
    await worker.stop();
    await cluster.waitForReplay();
  }
}

/** When replica 0 went out of the rotation and came back, per run, as a Markdown table. */
function timingTable(results: RunResult[]): string {
  const time = (ms: number | undefined) => (ms === undefined ? '—' : seconds(ms));
  const lines = ['| scenario | variant | out of the rotation | readable again | served a read again |', '|---|---|---|---|---|'];
  for (const r of results) {
    let out = r.outAfterMs === undefined ? '—' : `${time(r.outAfterMs)} after the fault`;
    if (r.scenario === 'lag' && r.excludedAfterMs !== undefined) {
      out =
        r.excludedAfterMs < 0
          ? `${time(r.outAfterMs)} after the pause, ${time(-r.excludedAfterMs)} before the byte limit was passed: by time lag`
          : `${time(r.excludedAfterMs)} after the write past the limit (${(r.excludedAfterMs / HEALTH.intervalMs).toFixed(2)} intervals)`;
    }
    lines.push(`| ${FAULT_NAMES[r.scenario][0]} | ${VARIANT_LABELS[r.variant]} | ${out} | ${time(r.readableAfterMs)} | ${time(r.servedAfterMs)} |`);
  }
  return lines.join('\n');
}

/** The scenarios that fault replica 0 and recover it, one after another on one cluster. */
async function replicaFaultRuns(scenarios: Scenario[]): Promise<void> {
  const { cluster, workers, env, stop } = await startBenchCluster();
  try {
    await createBallast(cluster);
    console.log(
      `cluster: primary :${cluster.primary.port}, replicas ${cluster.replicas.map((replica) => ':' + replica.port).join(', ')} (replica 0 takes the faults)`,
    );
    console.log(
      `load: ${CONNECTIONS} closed-loop clients on GET /read for ${DURATION} s after ${WARMUP} s of warm-up; fault at ${FAULT_AT} s, recovery at ${RECOVER_AT} s; ` +
        `a request unanswered after ${CLIENT_TIMEOUT} ms is abandoned and counted as failed; lag scenario: writer ${LAG_WRITER}`,
    );

    const results: RunResult[] = [];
    for (const scenario of scenarios) {
      for (const variant of VARIANTS) {
        if (scenario === 'lag' && variant !== 'pindb') continue;
        results.push(await run(cluster, workers, env, scenario, variant));
      }
    }

    const rows: TableRow[] = results.flatMap(({ scenario, variant, figures }) =>
      figures.map((f) => ({ scenario: FAULT_NAMES[scenario][0], variant: VARIANT_LABELS[variant], figures: f })),
    );
    console.log(`\n${markdownTable(rows)}\n`);
    console.log('(latencies of the requests that succeeded; retried: PinDb re-ran a read on another server; > 1 s: requests that took a second or more)\n');
    console.log(timingTable(results));
    console.log(
      '(out: the health report shows replica 0 down or lagging, polled every 25 ms; lag: from the write that passed the limit, as read by the check; readable / served: after the recovery)\n',
    );
    for (const result of results.filter((r) => r.variant === 'pindb')) {
      const failed = result.figures.reduce((sum, f) => sum + f.failed, 0);
      console.log(`RESULT: ${result.scenario} with PinDb: ${failed} failed requests (goal 0): ${failed === 0 ? 'met' : 'NOT met'}`);
      if (result.scenario === 'lag') {
        const intervals = result.excludedAfterMs === undefined ? undefined : result.excludedAfterMs / HEALTH.intervalMs;
        if (intervals !== undefined && intervals < 0)
          console.log(`RESULT: lag exclusion: by time lag, before the byte limit was passed (goal ≤ 2 intervals after it): not measured`);
        else
          console.log(
            `RESULT: lag exclusion ${intervals === undefined ? 'not seen' : `after ${intervals.toFixed(2)} intervals`} (goal ≤ 2): ${intervals !== undefined && intervals <= 2 ? 'met' : 'NOT met'}`,
          );
      }
    }
    await saveResults('failover', {
      knobs: { durationS: DURATION, warmupS: WARMUP, faultAtS: FAULT_AT, recoverAtS: RECOVER_AT, connections: CONNECTIONS, clientTimeoutMs: CLIENT_TIMEOUT },
      faultNames: FAULT_NAMES,
      labels: VARIANT_LABELS,
      results,
    });
  } finally {
    await stop();
  }
}

async function main(): Promise<void> {
  const started = performance.now();
  console.log(
    `PinDb health options (defaults): intervalMs ${HEALTH.intervalMs}, connectTimeoutMs ${HEALTH.connectTimeoutMs}, cooldownMs ${HEALTH.cooldownMs}, ` +
      `maxCooldownMs ${HEALTH.maxCooldownMs}, maxLagBytes ${HEALTH.maxLagBytes} (lag scenario: ${LAG_LIMIT}), maxLagSeconds ${HEALTH.maxLagSeconds}; replicaSelection round-robin`,
  );
  const replicaFaults = SCENARIOS.filter((scenario): scenario is Scenario => scenario !== 'promote');
  if (replicaFaults.length) await replicaFaultRuns(replicaFaults);
  if (SCENARIOS.includes('promote')) {
    await promoteRuns(VARIANTS, {
      self: SELF,
      durationS: DURATION,
      warmupS: WARMUP,
      faultAtS: FAULT_AT,
      connections: CONNECTIONS,
      clientTimeoutMs: CLIENT_TIMEOUT,
      writeEvery: WRITE_EVERY,
    });
  }
  console.log(`total ${((performance.now() - started) / 1000).toFixed(0)} s`);
}

runBench(
  process.argv[2] === 'app',
  (cluster) => serveFailoverApp(process.argv[3] as FailoverVariant, cluster, process.argv[4] ?? '', process.argv[5] === 'promotion'),
  main,
);
