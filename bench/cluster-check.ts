/** After a bench: proof that its cluster left no server process behind. */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { PgCluster } from '../lib/testing/index.js';

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
  console.log(left.length === 0 ? `cluster stopped: no process left under ${baseDir}` : `cluster stopped, but still running under ${baseDir}: ${left.join('; ')}`);
}
