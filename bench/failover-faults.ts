/**
 * The faults bench/failover.ts puts on replica 0, each with its recovery: kill / restart, freeze /
 * thaw, and replay paused while a writer fills WAL past maxLagBytes / replay resumed. `undo` puts
 * the cluster back as it was if a run ends early (a frozen replica would hang its app's shutdown).
 * And the promote scenario's, which has no way back: the primary killed, a replica promoted.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { PgCluster } from '../lib/testing/index.js';
import { childPids, processAlive } from '../lib/testing/process-tree.js';

export type Scenario = 'kill' | 'freeze' | 'lag';

/**
 * When the lag scenario's writer starts: 'steady', with the run (a live app's primary is never idle
 * for long); 'at-pause', when replay is paused, after a primary idle since the cluster was seeded.
 */
export type WriterStart = 'steady' | 'at-pause';

export interface Fault {
  /** Before the load starts. */
  prepare(): Promise<void>;
  inject(): Promise<void>;
  recover(): Promise<void>;
  /** After the run, or if it ends early: recovers if `recover` has not run, stops what `prepare` started. */
  undo(): Promise<void>;
  /** Lag only: Date.now() and performance.now() when the writer's WAL first passed the limit. */
  passedLimit?: { wall: number; at: number; lagBytes: number };
}

const REPLICA = 0;

export function fault(scenario: Scenario, cluster: PgCluster, maxLagBytes: number, writerStart: WriterStart): Fault {
  let injected = false;
  let recovered = false;
  const once = (recover: () => Promise<void>) => async () => {
    if (!injected || recovered) return;
    recovered = true;
    await recover();
  };
  const nothing = async () => undefined;
  // A fault that is one call in and one call out.
  const simple = (inject: () => Promise<void>, recover: () => Promise<void>): Fault => {
    const recoverOnce = once(recover);
    return {
      prepare: nothing,
      inject: async () => {
        injected = true;
        await inject();
      },
      recover: recoverOnce,
      undo: recoverOnce,
    };
  };
  switch (scenario) {
    case 'kill':
      return simple(
        () => cluster.killReplica(REPLICA),
        () => cluster.startReplica(REPLICA),
      );
    case 'freeze':
      return simple(
        () => cluster.freezeReplica(REPLICA),
        () => cluster.thawReplica(REPLICA),
      );
    case 'lag': {
      let writer: WalWriter | undefined;
      const result: Fault = {
        prepare: async () => {
          if (writerStart === 'steady') writer = new WalWriter(cluster);
        },
        inject: async () => {
          injected = true;
          await cluster.pauseReplay(REPLICA);
          writer ??= new WalWriter(cluster);
          // Paused: its replay position holds still, and the writer's WAL moves away from it.
          const [{ replay }] = await cluster.query<{ replay: string }>(REPLICA, 'SELECT pg_last_wal_replay_lsn()::text AS replay');
          writer.watch(replay, maxLagBytes, (passed) => (result.passedLimit = passed));
        },
        recover: once(() => cluster.resumeReplay(REPLICA)),
        undo: async () => {
          await result.recover();
          await writer?.stop();
        },
      };
      return result;
    }
  }
}

/** Rows of about 1 KiB: each insert adds about 100 KiB of WAL. */
const INSERT = 'INSERT INTO failover_ballast SELECT repeat(md5(random()::text), 32) FROM generate_series(1, 100)';
const PAUSE_MS = 100;

/**
 * A steady writer on the primary (about 1 MiB of WAL a second). Once told the paused replica's
 * replay position, after each insert it compares the primary's WAL position with it, as the health
 * check does, and reports the first insert that put the replica past the limit.
 */
class WalWriter {
  private running = true;
  private limit?: { replay: string; maxLagBytes: number; onPassed: (passed: NonNullable<Fault['passedLimit']>) => void };
  private readonly done: Promise<void>;

  constructor(cluster: PgCluster) {
    this.done = (async () => {
      while (this.running) {
        await cluster.query('primary', INSERT);
        const wall = Date.now();
        const at = performance.now();
        const limit = this.limit;
        if (limit) {
          const [{ lag }] = await cluster.query<{ lag: string }>('primary', 'SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), $1::pg_lsn)::text AS lag', [
            limit.replay,
          ]);
          if (Number(lag) > limit.maxLagBytes) {
            this.limit = undefined;
            limit.onPassed({ wall, at, lagBytes: Number(lag) });
          }
        }
        await new Promise((resolve) => setTimeout(resolve, PAUSE_MS));
      }
    })();
  }

  watch(replay: string, maxLagBytes: number, onPassed: (passed: NonNullable<Fault['passedLimit']>) => void): void {
    this.limit = { replay, maxLagBytes, onPassed };
  }

  stop(): Promise<void> {
    this.running = false;
    return this.done;
  }
}

/** The writer's table, created once before the runs. */
export async function createBallast(cluster: PgCluster): Promise<void> {
  await cluster.query('primary', 'CREATE TABLE IF NOT EXISTS failover_ballast (payload text)');
  await cluster.waitForReplay();
}

/**
 * SIGKILL of the primary's postmaster, as killReplica does to a replica (the cluster has no such
 * control for the primary); resolves once its orphaned backends have exited too. The postmaster is
 * this process's child (startPgCluster spawned it): waiting until it is reaped, not merely a zombie,
 * means the cluster has seen its exit, and promoteReplica then knows the primary streams nothing.
 */
export async function killPrimary(cluster: PgCluster): Promise<void> {
  const [{ pid }] = await cluster.query<{ pid: string }>('primary', "SELECT split_part(pg_read_file('postmaster.pid'), E'\\n', 1) AS pid");
  const postmaster = Number(pid);
  const children = childPids(postmaster);
  process.kill(postmaster, 'SIGKILL');
  while (reaped(postmaster) === false || children.some(processAlive)) await sleep(5);
}

function reaped(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return false;
  } catch {
    return true;
  }
}

const lsnValue = (lsn: string) => {
  const [high, low] = lsn.split('/');
  return (BigInt(`0x${high}`) << 32n) + BigInt(`0x${low}`);
};

/**
 * After the primary's loss, the replica a failover manager promotes: once no replica's WAL receiver
 * streams any more (each has received all it ever will), the one that received the most (ties: the
 * lowest index), since a replica that received WAL the promoted one had not could not follow it.
 */
export async function mostAdvancedReplica(cluster: PgCluster): Promise<{ candidate: number; received: string[] }> {
  const replicas = cluster.replicas.map((_, i) => i);
  const deadline = performance.now() + 30_000;
  for (const i of replicas) {
    while (
      (await cluster.query<{ streaming: boolean }>(i, "SELECT EXISTS (SELECT 1 FROM pg_stat_wal_receiver WHERE status = 'streaming') AS streaming"))[0]
        .streaming
    ) {
      if (performance.now() > deadline) throw new Error(`replica ${i} still streams 30 s after the primary was killed`);
      await sleep(5);
    }
  }
  const received = await Promise.all(
    replicas.map(async (i) => (await cluster.query<{ lsn: string | null }>(i, 'SELECT pg_last_wal_receive_lsn()::text AS lsn'))[0].lsn ?? '0/0'),
  );
  const values = received.map(lsnValue);
  return { candidate: values.reduce((best, lsn, i) => (lsn > values[best] ? i : best), 0), received };
}
