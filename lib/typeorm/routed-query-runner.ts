import type { PostgresDriver } from 'typeorm/driver/postgres/PostgresDriver.js';
import type { PostgresQueryRunner } from 'typeorm/driver/postgres/PostgresQueryRunner.js';
import type { ReplicaHost } from '../health/replica-host.js';
import type { RoutingFrame } from '../routing/context-state.js';
import { PinDbContext } from '../routing/pin-db.context.js';
import type { SetRouter } from '../routing/set-router.js';
import { statementKind } from '../routing/statement-kind.js';
import { replicaOfConnection } from './replica-connection.js';

type Query = PostgresQueryRunner['query'];

/** TypeORM keeps these protected; the routing reads and steers them. */
interface RunnerInternals {
  mode: 'master' | 'slave';
  databaseConnection?: object;
  databaseConnectionPromise?: Promise<object>;
  releaseCallback?: (error?: unknown) => void;
}

const READ_ONLY_TRANSACTION = '25006';
const TRANSACTION_START = /^\s*(?:START|BEGIN)\b/i;
const ROLLBACK = /^\s*ROLLBACK\s*$/i;

/**
 * Wraps a query runner's `query` so that every statement is checked and counted:
 * - a write (strict mode) is refused before any SQL is sent, or (greedy) pins its set;
 * - a write or a transaction on a replica-mode runner moves the runner to the primary first;
 * - a statement a replica refuses as read-only (25006) runs once more, on the primary.
 */
export function routeQueryRunner(runner: PostgresQueryRunner, driver: PostgresDriver, router: SetRouter): PostgresQueryRunner {
  const send: Query = runner.query.bind(runner);
  const internals = runner as unknown as RunnerInternals;
  // A transaction refused in strict mode is never started, so TypeORM's ROLLBACK after the
  // error has nothing to undo: it is dropped, and no SQL at all reaches the server.
  let refusedTransaction = false;

  // Not async, and one `.then` per statement: this runs for every query, and on Node 20 each
  // promise costs more once AsyncLocalStorage is in use.
  const query = (sql: string, parameters?: any[], useStructuredResult = false): Promise<any> => {
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
        if (!replica || sqlState(error) !== READ_ONLY_TRANSACTION || runner.isTransactionActive) throw error;
        router.retriedOnPrimary(frame, sql);
        moveToPrimary(internals, driver);
        return query(sql, parameters, useStructuredResult);
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
  if (!runner.databaseConnection) return;
  runner.releaseCallback?.();
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
