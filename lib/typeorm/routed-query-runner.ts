import type { PostgresDriver } from 'typeorm/driver/postgres/PostgresDriver.js';
import type { PostgresQueryRunner } from 'typeorm/driver/postgres/PostgresQueryRunner.js';
import { NoDatabaseAvailableError } from '../errors/no-database-available.error.js';
import type { ReplicaHost } from '../health/replica-host.js';
import { serverFailure } from '../health/server-failure.js';
import type { RoutingFrame } from '../routing/context-state.js';
import { PinDbContext } from '../routing/pin-db.context.js';
import type { SetRouter } from '../routing/set-router.js';
import { statementKind } from '../routing/statement-kind.js';
import { avoidingReplica, replicaOfConnection } from './replica-connection.js';

type Query = PostgresQueryRunner['query'];

/** TypeORM keeps these protected; the routing reads and steers them. */
interface RunnerInternals {
  mode: 'master' | 'slave';
  databaseConnection?: object;
  databaseConnectionPromise?: Promise<object>;
  releaseCallback?: (error?: unknown) => void;
  isReleased: boolean;
}

const READ_ONLY_TRANSACTION = '25006';
const TRANSACTION_START = /^\s*(?:START|BEGIN)\b/i;
const ROLLBACK = /^\s*ROLLBACK\s*$/i;

/**
 * Wraps a query runner's `query` so that every statement is checked and counted:
 * - a write (strict mode) is refused before any SQL is sent, or (greedy) pins its set;
 * - a write or a transaction on a replica-mode runner moves the runner to the primary first;
 * - a statement a replica refuses as read-only (25006) runs once more, on the primary;
 * - a read that loses its replica (unreachable) runs again on the next readable replica, then the
 *   primary; one cancelled in a recovery conflict, on another replica, then the primary;
 * - a statement that loses the primary is a NoDatabaseAvailableError. It is never sent again:
 *   a write may have been committed before the connection broke.
 */
export function routeQueryRunner(runner: PostgresQueryRunner, driver: PostgresDriver, router: SetRouter): PostgresQueryRunner {
  const send: Query = runner.query.bind(runner);
  const internals = runner as unknown as RunnerInternals;
  // A transaction refused in strict mode is never started, so TypeORM's ROLLBACK after the
  // error has nothing to undo: it is dropped, and no SQL at all reaches the server.
  let refusedTransaction = false;

  // Not async, and one `.then` per statement: this runs for every query, and on Node 20 each
  // promise costs more once AsyncLocalStorage is in use.
  const query = (sql: string, parameters?: any[], useStructuredResult = false, attempt = 0): Promise<any> => {
    const frame = PinDbContext.current();
    if (refusedTransaction && ROLLBACK.test(sql)) {
      refusedTransaction = false;
      return Promise.resolve(useStructuredResult ? { records: [], raw: [] } : []);
    }
    if (statementKind(sql) === 'write') {
      try {
        router.beforeWrite(frame);
      } catch (error) {
        if (TRANSACTION_START.test(sql)) refusedTransaction = true;
        return Promise.reject(error);
      }
      moveToPrimary(internals, driver);
    }
    return send(sql, parameters, useStructuredResult).then(
      (result) => {
        countSent(router, frame, internals);
        return result;
      },
      (error) => {
        const replica = internals.databaseConnection ? countSent(router, frame, internals) : undefined;
        const failure = serverFailure(error);
        if (!replica) {
          if (failure === 'unreachable' && internals.databaseConnection) throw new NoDatabaseAvailableError(router.name, router.set.primary.label, { cause: error });
          throw error;
        }
        if (runner.isTransactionActive || attempt > router.hosts.size) throw error;
        const again = () => query(sql, parameters, useStructuredResult, attempt + 1);
        if (sqlState(error) === READ_ONLY_TRANSACTION) {
          router.retriedOnPrimary(frame, sql);
          moveToPrimary(internals, driver);
          return again();
        }
        if (failure === 'unreachable') {
          // Marked down: the next connection comes from another readable replica, or the primary.
          router.replicaFailed(replica, error, frame);
          dropConnection(internals, driver, error);
          // The lost connection made TypeORM mark the runner released: it is not, it is still
          // running the caller's statement.
          internals.isReleased = false;
          return again();
        }
        if (failure === 'recovery-conflict') {
          router.recoveryConflict(replica, frame, sql);
          if (attempt + 1 >= router.hosts.size) {
            moveToPrimary(internals, driver);
            return again();
          }
          dropConnection(internals, driver);
          return avoidingReplica(replica, again);
        }
        throw error;
      },
    );
  };

  runner.query = query as Query;
  return runner;
}

/** Counts a statement once sent, on the server of the connection TypeORM took for it; returns its replica, if it was one. */
function countSent(router: SetRouter, frame: RoutingFrame | undefined, runner: RunnerInternals): ReplicaHost | undefined {
  const replica = replicaOfConnection(runner.databaseConnection);
  router.recordQuery(frame, replica ? 'replica' : 'primary', replica ? replica.label : router.set.primary.label);
  return replica;
}

/**
 * From now on the runner uses the primary: a replica connection it holds goes back to its pool,
 * and its next statement takes a primary connection (TypeORM connects by `mode`).
 */
function moveToPrimary(runner: RunnerInternals, driver: PostgresDriver): void {
  if (runner.mode === 'master') return;
  runner.mode = 'master';
  if (runner.databaseConnection) dropConnection(runner, driver);
}

/** The runner gives its connection back (destroyed, with `error`) and takes a new one for its next statement. */
function dropConnection(runner: RunnerInternals, driver: PostgresDriver, error?: unknown): void {
  runner.releaseCallback?.(error);
  runner.releaseCallback = undefined;
  runner.databaseConnection = undefined;
  runner.databaseConnectionPromise = undefined;
  const index = driver.connectedQueryRunners.indexOf(runner as unknown as PostgresQueryRunner);
  if (index !== -1) driver.connectedQueryRunners.splice(index, 1);
}

function sqlState(error: unknown): string | undefined {
  const failed = error as { code?: string; driverError?: { code?: string } };
  return failed?.driverError?.code ?? failed?.code;
}
