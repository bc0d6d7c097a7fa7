/**
 * Thrown by `startPgCluster()` and the cluster's controls when a server cannot be started or
 * controlled. The message names the problem and how to fix it.
 */
export class PgClusterError extends Error {
  override readonly name = 'PgClusterError';
}

/** A server's port was taken by another process between the choice of free ports and its start: the cluster is started again on other ports. */
export class PgPortTakenError extends PgClusterError {}
