/** After a bench: proof that its cluster left no server process behind. */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { PgCluster, PgConnectionOptions } from '../lib/testing/index.js';
import { seedBenchItems } from './bench-item.js';
import type { BenchWorker } from './worker.js';

/** The directory that holds every data directory of the cluster. */
export async function clusterBaseDir(cluster: PgCluster): Promise<string> {
  const [row] = await cluster.query<{ dir: string }>('primary', "SELECT current_setting('data_directory') AS dir");
  return dirname(row.dir);
}

/** Live processes whose command line names `baseDir` (postmasters do: `postgres -D <baseDir>/primary`), as `pid command`. */
export function processesUnder(baseDir: string): string[] {
  const found: string[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      if (cmdline.includes(baseDir)) found.push(`${entry} ${cmdline.replace(/\0/g, ' ').trim().slice(0, 80)}`);
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

/**
 * Stops the cluster and prints whether anything of it is left. stop() SIGKILLs the cluster's reaper
 * shell (whose command line names the directory too) without waiting for it, so a second is allowed.
 */
export async function stopAndCheck(cluster: PgCluster, baseDir: string | undefined): Promise<void> {
  await cluster.stop();
  if (!baseDir) return;
  let left = processesUnder(baseDir);
  for (let i = 0; i < 20 && left.length > 0; i++) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    left = processesUnder(baseDir);
  }
  console.log(
    left.length === 0 ? `cluster stopped: no process left under ${baseDir}` : `cluster stopped, but still running under ${baseDir}: ${left.join('; ')}`,
  );
}

export interface ClusterInfo {
  primary: PgConnectionOptions;
  replicas: PgConnectionOptions[];
}

/**
 * A seeded 1 + 2 cluster for a bench: `env` hands it to the bench's worker processes, `workers`
 * collects them, and `stop()` ends them all and the cluster, and proves nothing is left (also on Ctrl-C).
 */
export async function startBenchCluster(): Promise<{ cluster: PgCluster; workers: BenchWorker[]; env: Record<string, string>; stop: () => Promise<void> }> {
  const { startPgCluster } = await import('../lib/testing/index.js');
  const cluster = await startPgCluster({ replicas: 2 });
  const baseDir = await clusterBaseDir(cluster).catch(() => undefined);
  const workers: BenchWorker[] = [];
  const stop = async () => {
    for (const worker of workers) await worker.stop().catch((error) => console.error(error));
    await stopAndCheck(cluster, baseDir);
  };
  process.once('SIGINT', () => void stop().finally(() => process.exit(130)));
  try {
    await seedBenchItems(cluster);
  } catch (error) {
    await stop();
    throw error;
  }
  const info: ClusterInfo = { primary: cluster.primary, replicas: cluster.replicas };
  return { cluster, workers, stop, env: { BENCH_CLUSTER: JSON.stringify(info) } };
}

/**
 * A bench script's entry: run as a worker (`worker` given the cluster its parent started) when the
 * parent spawned it so, else as the parent (`main`). Exits 1 on any error.
 */
export function runBench(asWorker: boolean, worker: (cluster: ClusterInfo) => Promise<void>, main: () => Promise<void>): void {
  const fail = (error: unknown) => {
    console.error(error);
    process.exit(1);
  };
  if (asWorker) worker(JSON.parse(process.env.BENCH_CLUSTER!) as ClusterInfo).catch(fail);
  else main().then(() => process.exit(0), fail);
}
