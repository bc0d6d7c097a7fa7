/**
 * bench/failover.ts's promote scenario: under a load of reads and writes, the primary is killed
 * (SIGKILL) and right after, the replica that received the most WAL is promoted (promoteReplica),
 * as a failover manager would. A promotion cannot be undone (the old primary would need pg_rewind
 * to follow the new one), so each run has a fresh cluster. The app serves GET /read and POST /write
 * (one row, its id made by the client): PinDb with `followPromotion: true`, or plain TypeORM
 * `replication`, whose writes keep going to the dead primary until the app is reconfigured.
 *
 * Per phase (before the kill; from it until promoteReplica resolved; after): reads and writes, and
 * the failed ones. Then: when the health report showed the primary down and the switch, when the
 * first write after the kill succeeded and from when every write did; and, counted on the new
 * primary, whether every acknowledged write is there, and once.
 */
import { HealthOptions } from '../lib/index.js';
import type { PgCluster } from '../lib/testing/index.js';
import { startBenchCluster } from './cluster-check.js';
import { FailoverVariant, VARIANT_LABELS, WRITE_TABLE } from './failover-app.js';
import { killPrimary, mostAdvancedReplica } from './failover-faults.js';
import { checkReplicaReads, RequestRecord, runLoad } from './failover-load.js';
import { MixedPhaseFigures, mixedLine, mixedPhases, mixedTable } from './failover-phases.js';
import { perSecond, SecondBucket } from './failover-timeline.js';
import { HealthWatch } from './failover-watch.js';
import { saveResults } from './results.js';
import { BenchWorker } from './worker.js';

export interface PromoteKnobs {
  /** The bench script, forked as each run's app. */
  self: string;
  durationS: number;
  warmupS: number;
  faultAtS: number;
  connections: number;
  clientTimeoutMs: number;
  /** One request in this many is a write. */
  writeEvery: number;
}

/** The writes' rows, counted on the new primary after the run (warm-up writes included). */
export interface WriteCheck {
  rows: number;
  acknowledged: number;
  /** Acknowledged writes whose row is not there. */
  lost: number;
  /** Ids with more than one row: a write applied twice. */
  duplicated: number;
  /** Writes that failed whose row is there anyway: committed, the answer lost with the connection. */
  failedButApplied: number;
  /** Acknowledged writes sent after the kill, and those answered by another server than the new primary. */
  acknowledgedAfterKill: number;
  elsewhereAfterKill: number;
}

export interface PromoteResult {
  variant: FailoverVariant;
  figures: MixedPhaseFigures[];
  candidate: number;
  /** The kill began, promoteReplica was called, and it resolved: ms since the load's t0. */
  killAtMs: number;
  promoteAtMs: number;
  promotedAtMs: number;
  /** Writes sent before the kill, still running at it, that failed. */
  failedInFlight: number;
  /** From the kill: the answer to the first write sent after it that succeeded. */
  firstWriteAfterMs?: number;
  /** From the kill: when the last write to fail was sent, and the answer to the first sent after it (from then on every write succeeded). */
  lastFailedWriteSentAfterMs?: number;
  steadyWritesAfterMs?: number;
  /** PinDb, from the kill: the health report showing the primary down, then the promoted replica as the primary. */
  primaryDownAfterMs?: number;
  switchedAfterMs?: number;
  writes: WriteCheck;
  /** Reads and writes that succeeded and failed per second sent. */
  readTimeline: SecondBucket[];
  writeTimeline: SecondBucket[];
}

const HEALTH = new HealthOptions() as Required<HealthOptions>;
const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const sleepUntil = (at: number) => new Promise((resolve) => setTimeout(resolve, Math.max(0, at - performance.now())));
const end = (record: RequestRecord) => record.start + record.latency;

async function checkWrites(cluster: PgCluster, candidate: number, records: RequestRecord[], killAt: number): Promise<WriteCheck> {
  const rows = await cluster.query<{ id: string; n: number }>(candidate, `SELECT id::text AS id, count(*)::int AS n FROM ${WRITE_TABLE} GROUP BY id`);
  const count = new Map(rows.map(({ id, n }) => [id, n]));
  const writes = records.filter((record) => record.write);
  const acknowledged = writes.filter((record) => !record.error);
  const acknowledgedAfterKill = acknowledged.filter((record) => record.start >= killAt);
  const candidatePort = cluster.replicas[candidate].port;
  return {
    rows: rows.reduce((sum, { n }) => sum + n, 0),
    acknowledged: acknowledged.length,
    lost: acknowledged.filter((record) => !count.has(record.write!.id)).length,
    duplicated: rows.filter(({ n }) => n > 1).length,
    failedButApplied: writes.filter((record) => record.error && count.has(record.write!.id)).length,
    acknowledgedAfterKill: acknowledgedAfterKill.length,
    elsewhereAfterKill: acknowledgedAfterKill.filter((record) => record.port !== candidatePort).length,
  };
}

async function promoteRun(variant: FailoverVariant, knobs: PromoteKnobs): Promise<PromoteResult> {
  const { cluster, workers, env, stop } = await startBenchCluster();
  try {
    await cluster.query('primary', `CREATE TABLE ${WRITE_TABLE} (id uuid NOT NULL, written_at timestamptz NOT NULL DEFAULT clock_timestamp())`);
    await cluster.waitForReplay();
    const [worker, { url }] = await BenchWorker.start<{ url: string }>(`promote-${variant}`, knobs.self, ['app', variant, '', 'promotion'], env);
    workers.push(worker);
    const ports = cluster.replicas.map((replica) => replica.port!);
    await checkReplicaReads(url, ports, knobs.clientTimeoutMs);
    const watch = variant === 'pindb' ? new HealthWatch(url, ports[0]) : undefined;
    const t0 = performance.now() + knobs.warmupS * 1000;
    const { connections: clients, clientTimeoutMs: timeoutMs, writeEvery } = knobs;
    const load = runLoad({ url, clients, timeoutMs, t0, endAt: t0 + knobs.durationS * 1000, writeEvery });

    await sleepUntil(t0 + knobs.faultAtS * 1000);
    const killAt = performance.now() - t0;
    await killPrimary(cluster);
    const killedAt = performance.now() - t0;
    const { candidate, received } = await mostAdvancedReplica(cluster);
    const promoteAt = performance.now() - t0;
    await cluster.promoteReplica(candidate);
    const promotedAt = performance.now() - t0;
    const all = await load;
    await watch?.stop();

    const records = all.filter((record) => record.start >= 0);
    const figures = mixedPhases(records, killAt, promotedAt, variant === 'pindb');
    const writes = records.filter((record) => record.write && record.start >= killAt);
    const okAfterKill = writes.filter((record) => !record.error);
    const lastFailed = Math.max(...writes.filter((record) => record.error).map((record) => record.start));
    const steady = okAfterKill.filter((record) => record.start > lastFailed);
    const result: PromoteResult = {
      variant,
      figures,
      candidate,
      killAtMs: killAt,
      promoteAtMs: promoteAt,
      promotedAtMs: promotedAt,
      failedInFlight: records.filter((record) => record.write && record.error && record.start < killAt && end(record) >= killAt).length,
      firstWriteAfterMs: okAfterKill.length ? Math.min(...okAfterKill.map(end)) - killAt : undefined,
      lastFailedWriteSentAfterMs: Number.isFinite(lastFailed) ? lastFailed - killAt : undefined,
      steadyWritesAfterMs: steady.length ? Math.min(...steady.map(end)) - killAt : undefined,
      writes: await checkWrites(cluster, candidate, all, killAt),
      readTimeline: perSecond(records.filter((record) => !record.write)),
      writeTimeline: perSecond(records.filter((record) => record.write)),
    };

    const candidatePort = ports[candidate];
    const notes = [
      `killPrimary at ${seconds(killAt)} (took ${(killedAt - killAt).toFixed(0)} ms); replicas received ${received.join(', ')}: ` +
        `promoteReplica(${candidate}) at ${seconds(promoteAt)}, resolved at ${seconds(promotedAt)} (took ${(promotedAt - promoteAt).toFixed(0)} ms: promoted, and the other replica streams from it)`,
    ];
    if (watch) {
      const afterKill = watch.primaryChanges.filter((change) => change.at - t0 >= killAt);
      const down = afterKill.find((change) => !change.primary.up);
      const switched = afterKill.find((change) => change.primary.server.endsWith(`:${candidatePort}`));
      result.primaryDownAfterMs = down && down.at - t0 - killAt;
      result.switchedAfterMs = switched && switched.at - t0 - killAt;
      const primary = watch.primaryChanges.map(
        ({ at, primary, switches }) =>
          `${seconds(at - t0)} ${primary.server} ${primary.up ? 'up' : 'down'}${primary.timeline ? ` (timeline ${primary.timeline})` : ''}${switches ? `, switches ${switches}` : ''}`,
      );
      notes.push(
        `health report, primary: ${primary.join(' → ')}${down ? '' : ' (never shown down: the round whose check found it down found the promoted replica too)'}`,
      );
      for (const [i, port] of ports.entries()) {
        const changes = watch
          .changesOf(port)
          .map(({ at, state, replica }) => `${seconds(at - t0)} ${state}${replica.timeline ? ` (timeline ${replica.timeline})` : ''}`);
        notes.push(`health report, replica ${i}: ${changes.join(' → ')}${i === candidate ? ' (then the primary)' : ''}`);
      }
      if (switched) notes.push(`switched ${seconds(switched.at - t0 - promotedAt)} after promoteReplica resolved (health interval ${HEALTH.intervalMs} ms)`);
    }
    const time = (ms: number | undefined) => (ms === undefined ? 'never' : `${seconds(ms)} after the kill`);
    notes.push(
      `writes: ${result.failedInFlight} sent before the kill failed (in flight at it); the first to succeed after the kill answered ${time(result.firstWriteAfterMs)}; ` +
        (result.lastFailedWriteSentAfterMs === undefined
          ? 'none sent after the kill failed'
          : `the last to fail was sent ${time(result.lastFailedWriteSentAfterMs)}` +
            (result.steadyWritesAfterMs === undefined
              ? ', none sent later succeeded'
              : `; every one sent later succeeded, the first answered ${time(result.steadyWritesAfterMs)}`)),
    );
    const w = result.writes;
    notes.push(
      `on the new primary (replica ${candidate}): ${w.rows} rows; of ${w.acknowledged} acknowledged writes ${w.lost} missing, ${w.duplicated} ids twice or more, ` +
        `${w.failedButApplied} failed writes applied anyway; ${w.acknowledgedAfterKill} acknowledged after the kill, ${w.elsewhereAfterKill} of them by another server than :${candidatePort}`,
    );
    const failures = new Map<string, number>();
    for (const record of records) {
      if (!record.error) continue;
      const key = `${record.write ? 'write' : 'read'}: ${record.error.slice(0, 100)}`;
      failures.set(key, (failures.get(key) ?? 0) + 1);
    }
    if (failures.size) notes.push(`failures: ${[...failures].map(([error, n]) => `${n} × ${error}`).join('; ')}`);

    console.log(`\npromote / ${VARIANT_LABELS[variant]}: ${mixedLine(figures)}`);
    for (const note of notes) console.log(`  ${note}`);
    return result;
  } finally {
    await stop();
  }
}

/** Every variant's promote run, each on its own cluster; prints their table and goals, saves bench/results/failover-promote.json. */
export async function promoteRuns(variants: FailoverVariant[], knobs: PromoteKnobs): Promise<PromoteResult[]> {
  console.log(
    `\npromote: ${knobs.connections} closed-loop clients, 1 request in ${knobs.writeEvery} a POST /write (one row, its id made by the client), the others GET /read, ` +
      `for ${knobs.durationS} s after ${knobs.warmupS} s of warm-up; the primary killed at ${knobs.faultAtS} s and the most advanced replica promoted at once; each run on a fresh cluster`,
  );
  const results: PromoteResult[] = [];
  for (const variant of variants) results.push(await promoteRun(variant, knobs));

  const rows = results.flatMap(({ variant, figures }) => figures.map((f) => ({ variant: VARIANT_LABELS[variant], figures: f })));
  console.log(`\n${mixedTable(rows)}\n`);
  console.log('(before: until the kill; during: until promoteReplica resolved; after: the rest. Latencies of the requests that succeeded)\n');
  for (const r of results) {
    const failedReads = r.figures.reduce((sum, f) => sum + f.reads.failed, 0);
    const failedWrites = r.figures.reduce((sum, f) => sum + f.writes.failed, 0);
    const { lost, duplicated } = r.writes;
    const label = VARIANT_LABELS[r.variant];
    console.log(`RESULT: promote with ${label}: ${failedReads} failed reads (goal 0): ${failedReads === 0 ? 'met' : 'NOT met'}`);
    console.log(
      `RESULT: promote with ${label}: ${failedWrites} failed writes; writes succeed again ${r.firstWriteAfterMs === undefined ? 'never' : `${seconds(r.firstWriteAfterMs)} after the kill`}` +
        (r.steadyWritesAfterMs === undefined ? '' : `, every one from ${seconds(r.steadyWritesAfterMs)} on`),
    );
    console.log(
      `RESULT: promote with ${label}: acknowledged writes lost ${lost}, applied twice ${duplicated} (goal 0, 0): ${lost === 0 && duplicated === 0 ? 'met' : 'NOT met'}`,
    );
  }
  const { self: _self, ...saved } = knobs;
  await saveResults('failover-promote', { knobs: saved, labels: VARIANT_LABELS, results });
  return results;
}
