import { readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { PgCluster } from '../../lib/testing/index.js';
import { childPids, processAlive } from '../../lib/testing/process-tree.js';

export interface ClusterFootprint {
  baseDir: string;
  /** Every postmaster and backend of the cluster when the footprint was taken. */
  pids: number[];
}

/** Where a started cluster lives on disk and which processes are its servers. */
export async function clusterFootprint(cluster: PgCluster): Promise<ClusterFootprint> {
  const servers: ('primary' | number)[] = ['primary', ...cluster.replicas.map((_, i) => i)];
  const dataDirs = await Promise.all(
    servers.map(async (server) => (await cluster.query<{ dir: string }>(server, "SELECT current_setting('data_directory') AS dir"))[0].dir),
  );
  const postmasters = dataDirs.map((dir) => Number(readFileSync(`${dir}/postmaster.pid`, 'utf8').split('\n')[0]));
  return { baseDir: dirname(dataDirs[0]), pids: postmasters.flatMap((pid) => [pid, ...childPids(pid)]) };
}

export function anyServerAlive(footprint: ClusterFootprint): boolean {
  return footprint.pids.some(processAlive);
}
