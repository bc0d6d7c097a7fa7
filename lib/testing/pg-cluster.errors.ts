/**
 * Thrown by `startPgCluster()` and the cluster's controls when a server cannot be started or
 * controlled. The message names the problem and how to fix it.
 */
export class PgClusterError extends Error {
  override readonly name = 'PgClusterError';
}
