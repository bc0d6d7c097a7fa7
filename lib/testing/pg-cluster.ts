import { PgConnectionOptions } from './pg-connection.js';
import { StopMode } from './pg-server.js';

export interface WaitForReplayOptions {
  /** Which replicas must catch up. Default: every replica that is running */
  replicas?: number[];
  /** Default: 30000 */
  timeoutMs?: number;
}

/** A server of the cluster: `'primary'`, the one started as the primary, or replica i by its index. */
export type PgServerName = 'primary' | number;

/**
 * A primary with streaming replicas: one started by `startPgCluster()`, or an existing one.
 *
 * Servers keep their names through promoteReplica: `'primary'` (and `primary`) is always the server
 * started as the primary, replica i (and `replicas[i]`) always the same server, a primary too once
 * promoted. `currentPrimary` names the one the replicas stream from.
 */
export interface PgCluster {
  /** The server started as the primary: the same after promoteReplica (an old primary then). */
  readonly primary: PgConnectionOptions;
  /** Replica i by index, stable: a promoted replica keeps its place; addReplica appends one (in a new array). */
  readonly replicas: PgConnectionOptions[];
  /** The server the replicas stream from and writes go to: `'primary'` until promoteReplica(i) makes it i. */
  readonly currentPrimary: PgServerName;
  /** True for a cluster given by URLs (`connectPgCluster`): it has no fault controls. */
  readonly external: boolean;

  /** Runs one statement on the server started as the primary (`'primary'`) or on replica `server`, promoted or not. */
  query<T = Record<string, unknown>>(server: PgServerName, sql: string, params?: unknown[]): Promise<T[]>;
  /** Resolves when the replicas that stream from the current primary have replayed its current WAL position. */
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
  /** Shuts the primary (the server started as the primary) down (`fast` or `immediate`); the replicas keep serving what they have. */
  stopPrimary(mode?: Extract<StopMode, 'fast' | 'immediate'>): Promise<void>;
  /**
   * Starts the primary again and resolves when every running replica streams from it again (but those cut off by cutReplicaStream).
   * After promoteReplica it comes back as an unfenced old primary does: a primary on its own, older timeline, that no replica follows
   * (a split brain); it resolves once it accepts connections.
   */
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

  /**
   * Promotes replica i (`pg_promote`) and resolves once it is out of recovery, on a new timeline, and every other running
   * replica streams from it (their `primary_conninfo` re-pointed and reloaded; stopped ones follow it once started, cut
   * ones once restored). The others are cut off from the old primary first, so that none receives WAL past the promotion
   * point. The old primary is left as it is: running (a split brain: what is written there reaches no replica) or stopped.
   * Then `currentPrimary` is i; `primary`, `replicas` and every index stay as they were, and the controls keep working by
   * index (stopReplica(i) stops the new primary; startReplica(i) waits for its replicas). Let the replicas catch up first
   * (waitForReplay) if they must follow: one that received WAL the promoted one had not cannot.
   */
  promoteReplica(i: number): Promise<void>;
  /**
   * Adds a hot-standby replica of the current primary, a base backup of it taken while it runs; resolves with its index
   * (`replicas.length` before the call) once it streams. `replicas` becomes a new array with it appended (an array taken
   * before, e.g. given to an app, is unchanged); it has the cluster's applyDelayMs and settings, a free port (with basePort:
   * basePort + 1 + its index), every control by its index, and stop() removes it too.
   */
  addReplica(): Promise<number>;

  /** Stops every server and removes every file of the cluster; a second call does nothing. */
  stop(): Promise<void>;
}
