/** Where a replica scope with `preventWrites: true` was opened. */
export type ReplicaScopeKind = '@UseReplica' | 'routing.useReplica';

/**
 * A write inside a replica scope with `preventWrites: true` (`@UseReplica({ preventWrites: true })`
 * or `routing.useReplica(fn, { preventWrites: true })`), as Rails' `connected_to(role: :reading,
 * prevent_writes: true)`. Nothing was written: thrown before the write is sent (or once a replica
 * refused a function call as a write, instead of running it on the primary), and the set is not
 * pinned by it.
 */
export class ReplicaScopeWriteError extends Error {
  override readonly name = 'ReplicaScopeWriteError';

  constructor(
    readonly set: string,
    readonly scope: ReplicaScopeKind,
  ) {
    const opened =
      scope === '@UseReplica' ? '@UseReplica({ preventWrites: true }) on the handler or controller' : 'routing.useReplica(fn, { preventWrites: true })';
    super(
      `Write to database set "${set}" inside a replica scope that prevents writes (${opened}); nothing was written. ` +
        `Move the write out of the scope (or into routing.usePrimary(() => ..., '${set}') inside it), or drop preventWrites.`,
    );
  }
}
