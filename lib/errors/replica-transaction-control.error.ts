/**
 * fn of `routing.replicaTransaction()` sent BEGIN, START TRANSACTION, COMMIT or ROLLBACK itself:
 * that would end its snapshot, or leave its statements outside the READ ONLY transaction. Thrown
 * before the statement is sent; the transaction is rolled back when fn throws.
 */
export class ReplicaTransactionControlError extends Error {
  override readonly name = 'ReplicaTransactionControlError';

  constructor(readonly set: string) {
    super(
      `routing.replicaTransaction() on set "${set}": fn must not begin, commit or roll back the transaction itself; ` +
        'it is committed when fn resolves and rolled back when fn throws. For a nested block use manager.transaction() (a savepoint).',
    );
  }
}
