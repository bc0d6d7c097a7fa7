import type { Target } from './context-state.js';

/**
 * The routing policy of nestjs-pindb in pure functions, so that every decision is in one place
 * with a table-driven spec: where a read goes (`routeRead`), which replicas may serve it
 * (`withinMaxLag`), whether a write may go ahead (`writeVerdict`), and what happens when a
 * statement fails (`afterFailure`). The set router gathers their inputs; the query runner
 * carries out their answers.
 */

/** What decides where the next read of a set goes. */
export interface ReadInputs {
  /** The set has replicas (none with `enabled: false`). */
  hasReplicas: boolean;
  /** PinDbModule's defaultTarget: where reads go that nothing else steers. */
  defaultTarget: Target;
  /** The innermost usePrimary / useReplica scope naming the set. */
  scoped?: Target;
  /** That scope is a useReplica with maxLagMs. */
  scopedMaxLagMs?: number;
  /** @UseReplica on the handler or controller. */
  forcedReplica: boolean;
  /** Its maxLagMs. */
  forcedMaxLagMs?: number;
  /** Pinned in this context: by a write, @Pin, routing.pin() or the request's method. */
  pinned: boolean;
  /** The request could not learn its client's token (the pin store failed). */
  readsFromPrimary: boolean;
  /** The client's live token entry for the set: a WAL position to wait for, or none (a pin by time). */
  entry?: { lsn?: bigint };
  /** No readable replica has replayed the entry's position, as far as this context found. */
  behind: boolean;
  /** The set's primary failed its last health check. */
  primaryDown: boolean;
}

/**
 * The primary, or a replica: one that has replayed `atLeast` (a token's position), or one at most
 * `maxLagMs` behind (a replica scope's bound, see withinMaxLag); neither: any readable replica.
 */
export type ReadRoute = { readonly to: 'primary' } | { readonly to: 'replica'; readonly atLeast?: bigint; readonly maxLagMs?: number };

const PRIMARY: ReadRoute = { to: 'primary' };
const ANY_REPLICA: ReadRoute = { to: 'replica' };

/**
 * Scopes win (the innermost usePrimary / useReplica, with its maxLagMs), then @UseReplica (with
 * its), then pins; then defaultTarget 'primary' sends every other read to the primary (replicas
 * only where the app opts in). Else a token sends the read to a replica that has replayed its
 * position, or to the primary if none has. A token entry without a position pins by time, except
 * while the primary is down: reading the primary would only fail, and such an entry stands for no
 * write whose position was seen.
 */
export function routeRead(inputs: ReadInputs): ReadRoute {
  if (!inputs.hasReplicas || inputs.scoped === 'primary') return PRIMARY;
  if (inputs.scoped === 'replica') return replicaWithin(inputs.scopedMaxLagMs);
  if (inputs.forcedReplica) return replicaWithin(inputs.forcedMaxLagMs);
  if (inputs.pinned || inputs.readsFromPrimary || inputs.defaultTarget === 'primary') return PRIMARY;
  const { entry } = inputs;
  if (!entry) return ANY_REPLICA;
  if (entry.lsn === undefined) return inputs.primaryDown ? ANY_REPLICA : PRIMARY;
  return inputs.behind ? PRIMARY : { to: 'replica', atLeast: entry.lsn };
}

function replicaWithin(maxLagMs: number | undefined): ReadRoute {
  return maxLagMs === undefined ? ANY_REPLICA : { to: 'replica', maxLagMs };
}

/** What the health monitor last read of a replica (undefined: nothing yet). */
export interface LagReading {
  /** How far its data is behind the primary's, at most (see replicaLag). */
  lagSeconds: number;
  /** pg_last_wal_replay_lsn(); undefined: it could not say how far it has replayed. */
  replayLsn?: bigint;
}

/**
 * Whether a replica may serve a read whose route bounds the lag (a replica scope's maxLagMs): its
 * lag at the health monitor's last check is at most maxLagMs. A replica whose lag is unknown (not
 * read yet, or no replay position) does not qualify. No bound: every readable replica qualifies.
 */
export function withinMaxLag(reading: LagReading | undefined, maxLagMs: number | undefined): boolean {
  if (maxLagMs === undefined) return true;
  if (reading === undefined || reading.replayLsn === undefined || !Number.isFinite(reading.lagSeconds)) return false;
  // In seconds, as the reading has it: ms / 1000 on both sides gives the same double for the same ms.
  return reading.lagSeconds <= maxLagMs / 1000;
}

/** What decides whether a write to a set may go ahead. */
export interface WriteInputs {
  /** mode: 'strict' (and routing enabled). */
  strict: boolean;
  /** Pinned in this context. */
  pinned: boolean;
  /** The innermost usePrimary / useReplica scope naming the set. */
  scoped?: Target;
  /** That scope is a useReplica with preventWrites. */
  scopedPreventsWrites: boolean;
  /** @UseReplica with preventWrites on the handler or controller. */
  forcedPreventsWrites: boolean;
}

/**
 * - 'write': it goes ahead (to the primary, and pins the set);
 * - 'prevented-by-scope' / 'prevented-by-decorator': ReplicaScopeWriteError, nothing sent;
 * - 'unpinned': strict mode, UnpinnedWriteError, nothing sent.
 */
export type WriteVerdict = 'write' | 'prevented-by-scope' | 'prevented-by-decorator' | 'unpinned';

/**
 * A replica scope with preventWrites refuses every write, as the read routing orders scopes: the
 * innermost usePrimary / useReplica naming the set decides alone (a usePrimary inside lets writes
 * through, and so does a plain useReplica), @UseReplica only without one. Then strict mode: a
 * write needs the set pinned or a usePrimary scope.
 */
export function writeVerdict({ strict, pinned, scoped, scopedPreventsWrites, forcedPreventsWrites }: WriteInputs): WriteVerdict {
  if (scoped === 'replica' && scopedPreventsWrites) return 'prevented-by-scope';
  if (scoped === undefined && forcedPreventsWrites) return 'prevented-by-decorator';
  if (strict && !pinned && scoped !== 'primary') return 'unpinned';
  return 'write';
}

/**
 * What a failed statement says:
 * - 'unreachable': its server or connection is gone;
 * - 'recovery-conflict': a replica cancelled it to replay WAL;
 * - 'needs-primary': a replica refused it as a write (SQLSTATE 25006, or "during recovery").
 */
export type StatementFailure = 'unreachable' | 'recovery-conflict' | 'needs-primary';

export interface FailureInputs {
  failure?: StatementFailure;
  /** It ran on a replica (else on the primary). */
  onReplica: boolean;
  inTransaction: boolean;
  /** Times this statement was already sent again (0 on its first failure). */
  attempt: number;
  /** Replicas in the set: a statement is sent again at most this many times. */
  replicas: number;
  /** Session state the runner set on its replica connection: 'sticky' state cannot move to another. */
  sessionState?: 'replayable' | 'sticky';
}

/**
 * - 'throw': the caller gets the error as it is;
 * - 'no-database': the primary was lost: NoDatabaseAvailableError, and the statement is never sent
 *   again (a write may have been committed before the connection broke);
 * - 'another-replica': the same statement on another readable replica (or the primary if none is);
 * - 'primary': the same read on the primary;
 * - 'write-on-primary': it is a write after all: checked (strict mode), pinned and sent to the primary.
 */
export type FailureAction = 'throw' | 'no-database' | 'another-replica' | 'primary' | 'write-on-primary';

export function afterFailure({ failure, onReplica, inTransaction, attempt, replicas, sessionState }: FailureInputs): FailureAction {
  if (!onReplica) return failure === 'unreachable' ? 'no-database' : 'throw';
  if (failure === undefined || inTransaction || attempt > replicas) return 'throw';
  // A refused write did nothing: it may run on the primary (where session state goes with it, or the move is refused).
  if (failure === 'needs-primary') return 'write-on-primary';
  // Another connection would not have the state the statement relies on.
  if (sessionState === 'sticky') return 'throw';
  if (failure === 'unreachable') return 'another-replica';
  return attempt + 1 >= replicas ? 'primary' : 'another-replica';
}
