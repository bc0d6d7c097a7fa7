import type { EntityManager } from 'typeorm';
import { PinDbConfigError } from '../errors/pin-db-config.error.js';
import type { ReplicaHost } from '../health/replica-host.js';
import { PinDbContext } from '../routing/pin-db.context.js';
import type { SetRouter } from '../routing/set-router.js';
import { statementFailure } from '../routing/statement-failure.js';
import type { PooledConnection } from './connection-lease.js';
import type { ReplicaTransactionRunner } from './replica-transaction-runner.js';
import { RoutedPostgresDriver } from './routed-postgres-driver.js';
import type { PostgresIsolationLevel } from './typeorm-compat.js';

export interface ReplicaTransactionOptions {
  /** The database set. Default: 'default' */
  set?: string;
  /** The transaction's isolation level; SERIALIZABLE runs on the primary (a hot standby has no serializable transactions). Default: 'REPEATABLE READ' */
  isolation?: PostgresIsolationLevel;
}

const ISOLATION_LEVELS: readonly PostgresIsolationLevel[] = ['READ UNCOMMITTED', 'READ COMMITTED', 'REPEATABLE READ', 'SERIALIZABLE'];

/** The isolation option, checked: it is spliced into START TRANSACTION, so only the known levels pass. */
export function replicaIsolation(isolation: unknown): PostgresIsolationLevel {
  if (isolation === undefined) return 'REPEATABLE READ';
  const level = ISOLATION_LEVELS.find((known) => known === isolation);
  if (!level) {
    throw new PinDbConfigError(
      `routing.replicaTransaction(): isolation must be one of ${ISOLATION_LEVELS.map((l) => `'${l}'`).join(', ')} (got ${JSON.stringify(isolation)}), ` +
        `e.g. { isolation: 'REPEATABLE READ' } (the default).`,
    );
  }
  return level;
}

/**
 * Runs fn(manager) in one READ ONLY transaction on one server of the set: a replica that may
 * serve the context (readable and, with a read-your-writes token, caught up with it), else the
 * primary (the context reads the set from there, no replica can serve it, or SERIALIZABLE). The
 * transaction is committed when fn resolves and rolled back when it throws. Only opening it is
 * tried again elsewhere, when the replica cannot be reached: nothing of fn has run yet.
 */
export async function replicaTransaction<T>(router: SetRouter, fn: (manager: EntityManager) => T | Promise<T>, isolation: PostgresIsolationLevel): Promise<T> {
  const driver = router.attachedDriver;
  if (!(driver instanceof RoutedPostgresDriver)) {
    throw new PinDbConfigError(
      `routing.replicaTransaction(): the DataSource of set "${router.name}" is not one PinDbModule created (or not created yet): ` +
        'call it once the app has initialised (after app.init() / app.listen()).',
    );
  }
  const { runner, manager } = await openTransaction(driver, isolation);
  try {
    let result: T;
    try {
      result = await fn(manager);
    } catch (error) {
      // The connection may be gone (a lost replica): the original error is the one that counts.
      await runner.end(false).catch(() => undefined);
      throw error;
    }
    await runner.end(true);
    return result;
  } finally {
    await runner.release();
  }
}

async function openTransaction(
  driver: RoutedPostgresDriver,
  isolation: PostgresIsolationLevel,
): Promise<{ runner: ReplicaTransactionRunner; manager: EntityManager }> {
  const { router } = driver;
  const frame = PinDbContext.current();
  let avoid: ReplicaHost | undefined;
  for (let attempt = 0; ; attempt++) {
    const connection: PooledConnection = isolation === 'SERIALIZABLE' ? await driver.connectToPrimary() : await driver.connectForRead(frame, avoid);
    const opened = driver.createReplicaTransactionRunner(connection, isolation);
    try {
      await opened.runner.begin();
      return opened;
    } catch (error) {
      await opened.runner.release();
      const replica = opened.runner.replica;
      if (!replica || statementFailure(error) !== 'unreachable' || attempt >= router.hosts.size) throw error;
      router.replicaFailed(replica, error, frame);
      avoid = replica;
    }
  }
}
