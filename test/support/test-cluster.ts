import { connectPgCluster, PgCluster, PgClusterOptions, startPgCluster } from '../../lib/testing/index.js';

/**
 * PINDB_TEST_PRIMARY_URL (and PINDB_TEST_REPLICA_URLS, comma-separated) run the suite against an
 * existing cluster instead of one started per spec file.
 */
export const EXTERNAL_PRIMARY_URL = process.env.PINDB_TEST_PRIMARY_URL;
export const isExternalCluster = Boolean(EXTERNAL_PRIMARY_URL);

export function testCluster(options: PgClusterOptions = {}): Promise<PgCluster> {
  if (EXTERNAL_PRIMARY_URL) {
    const replicaUrls = (process.env.PINDB_TEST_REPLICA_URLS ?? '').split(',').filter(Boolean);
    return Promise.resolve(connectPgCluster({ primaryUrl: EXTERNAL_PRIMARY_URL, replicaUrls }));
  }
  return startPgCluster(options);
}

/** `describe` for specs that stop, kill, freeze or delay servers: those cannot run on an external cluster. */
export function describeWithFaults(name: string, fn: () => void): void {
  if (isExternalCluster) {
    describe.skip(`${name} (skipped: fault injection needs a cluster from startPgCluster, and PINDB_TEST_PRIMARY_URL is set)`, fn);
  } else {
    describe(name, fn);
  }
}

/** A table whose name is unique to the calling spec, so specs can share an external cluster. */
export function uniqueName(prefix: string): string {
  return `${prefix}_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
}

/** Every replica stops replaying (it keeps receiving): from now on only a token can send a client's read to its write. */
export async function pauseReplicas(cluster: PgCluster): Promise<void> {
  await Promise.all(cluster.replicas.map((_, i) => cluster.pauseReplay(i)));
}

export async function resumeReplicas(cluster: PgCluster): Promise<void> {
  await Promise.all(cluster.replicas.map((_, i) => cluster.resumeReplay(i)));
}
