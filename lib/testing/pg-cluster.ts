import { PgConnectionOptions } from './pg-connection.js';
import { StopMode } from './pg-server.js';

export interface WaitForReplayOptions {
  /** Which replicas must catch up. Default: every replica that is running */
  replicas?: number[];
  /** Default: 30000 */
  timeoutMs?: number;
}

/** A primary with streaming replicas: one started by `startPgCluster()`, or an existing one. */
export interface PgCluster {
  readonly primary: PgConnectionOptions;
  readonly replicas: PgConnectionOptions[];
  /** True for a cluster given by URLs (`connectPgCluster`): it has no fault controls. */
  readonly external: boolean;

  /** Runs one statement on the primary or on replica `server`. */
  query<T = Record<string, unknown>>(server: 'primary' | number, sql: string, params?: unknown[]): Promise<T[]>;
  /** Resolves when the replicas have replayed the primary's current WAL position. */
  waitForReplay(options?: WaitForReplayOptions): Promise<void>;

  /** Shuts replica i down: `fast` (clean) or `immediate` (no checkpoint, as a power cut would). */
  stopReplica(i: number, mode?: Extract<StopMode, 'fast' | 'immediate'>): Promise<void>;
  /** Starts replica i again and resolves when it is streaming (if cut off by cutReplicaStream, when it accepts connections). */
  startReplica(i: number): Promise<void>;
  /** SIGKILL of replica i's postmaster. */
  killReplica(i: number): Promise<void>;
  /** SIGSTOP of every process of replica i: it accepts TCP connections and then answers nothing. */
  freezeReplica(i: number): Promise<void>;
  thawReplica(i: number): Promise<void>;
  /** Shuts the primary down (`fast` or `immediate`); the replicas keep serving what they have. */
  stopPrimary(mode?: Extract<StopMode, 'fast' | 'immediate'>): Promise<void>;
  /** Starts the primary again and resolves when every running replica streams from it again (but those cut off by cutReplicaStream). */
  startPrimary(): Promise<void>;
  /** SIGSTOP of every process of the primary: connects and queries, those already sent too, hang until thawPrimary. */
  freezePrimary(): Promise<void>;
  thawPrimary(): Promise<void>;
  /**
   * Replica i loses its WAL stream, as a network cut between it and the primary would: it stays
   * up and answers queries with what it had replayed, and receives nothing more. Resolves once the
   * primary no longer streams to it. waitForReplay leaves it out until restoreReplicaStream.
   */
  cutReplicaStream(i: number): Promise<void>;
  /** Reconnects replica i to the primary; resolves when it streams again. */
  restoreReplicaStream(i: number): Promise<void>;
  /** Replica i keeps receiving WAL but stops applying it. */
  pauseReplay(i: number): Promise<void>;
  resumeReplay(i: number): Promise<void>;
  /** Sets replica i's `recovery_min_apply_delay` and reloads its configuration. */
  setApplyDelay(i: number, ms: number): Promise<void>;

  /** Stops every server and removes every file of the cluster; a second call does nothing. */
  stop(): Promise<void>;
}
