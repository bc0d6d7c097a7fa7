import type { Target } from './context-state.js';

/**
 * The routing policy of nestjs-pindb in two pure functions, so that every decision is in one
 * place with a table-driven spec: where a read goes (`routeRead`), and what happens when a
 * statement fails (`afterFailure`). The set router gathers their inputs; the query runner
 * carries out their answers.
 */

/** What decides where the next read of a set goes. */
export interface ReadInputs {
  /** The set has replicas (none with `enabled: false`). */
  hasReplicas: boolean;
  /** The innermost usePrimary / useReplica scope naming the set. */
  scoped?: Target;
  /** @UseReplica on the handler or controller. */
  forcedReplica: boolean;
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

export type ReadRoute = { readonly to: 'primary' } | { readonly to: 'replica'; readonly atLeast?: bigint };

const PRIMARY: ReadRoute = { to: 'primary' };
const ANY_REPLICA: ReadRoute = { to: 'replica' };

/**
 * Scopes win (the innermost usePrimary / useReplica), then @UseReplica, then pins; a token sends
 * the read to a replica that has replayed its position, or to the primary if none has. A token
 * entry without a position pins by time, except while the primary is down: reading the primary
 * would only fail, and such an entry stands for no write whose position was seen.
 */
export function routeRead(inputs: ReadInputs): ReadRoute {
  if (!inputs.hasReplicas || inputs.scoped === 'primary') return PRIMARY;
  if (inputs.scoped === 'replica' || inputs.forcedReplica) return ANY_REPLICA;
  if (inputs.pinned || inputs.readsFromPrimary) return PRIMARY;
  const { entry } = inputs;
  if (!entry) return ANY_REPLICA;
  if (entry.lsn === undefined) return inputs.primaryDown ? ANY_REPLICA : PRIMARY;
  return inputs.behind ? PRIMARY : { to: 'replica', atLeast: entry.lsn };
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
