/** strict mode: a write to a set that is not pinned, outside `usePrimary`. Thrown before any SQL is sent. */
export class UnpinnedWriteError extends Error {
  override readonly name = 'UnpinnedWriteError';

  constructor(readonly set: string) {
    super(
      `Write to database set "${set}" while it is not pinned (mode: 'strict'). Pin it first: ` +
        `@Pin('${set}') on the handler or controller, routing.pin('${set}') in code, or wrap the write in ` +
        `routing.usePrimary(() => ..., '${set}'); or use mode: 'greedy' to pin on the first write.`,
    );
  }
}
