/**
 * A query runner created for reads (`createQueryRunner('slave')`) holds state on its replica
 * connection that cannot move with it to another server: a cursor declared WITH HOLD, or state it
 * lost with its connection. Thrown before any SQL of the statement is sent, instead of running
 * the statement on a connection without that state.
 */
export class ReplicaSessionStateError extends Error {
  override readonly name = 'ReplicaSessionStateError';

  constructor(
    readonly set: string,
    reason: string,
  ) {
    super(
      `A query runner of database set "${set}" ${reason}, so it cannot run this statement on another server. ` +
        `Create the runner for the primary (dataSource.createQueryRunner('master')), or run the work in ` +
        `routing.usePrimary(() => ..., '${set}'), when it sets session state and writes.`,
    );
  }
}
