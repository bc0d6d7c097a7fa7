import type { PostgresDriver } from 'typeorm/driver/postgres/PostgresDriver.js';
import type { PostgresQueryRunner } from 'typeorm/driver/postgres/PostgresQueryRunner.js';
import { PinDbContext } from '../routing/pin-db.context.js';
import type { SetRouter } from '../routing/set-router.js';
import { statementKind } from '../routing/statement-kind.js';
import { replicaOfConnection } from './replica-connection.js';

type Query = PostgresQueryRunner['query'];
/** TypeORM keeps these protected; the routing reads and steers them. */
type RunnerInternals = { mode: 'master' | 'slave'; databaseConnection?: object };

const READ_ONLY_TRANSACTION = '25006';
const TRANSACTION_START = /^\s*(?:START|BEGIN)\b/i;
const ROLLBACK = /^\s*ROLLBACK\s*$/i;

/**
 * Wraps a query runner's `query` so that every statement is checked and counted:
 * - a write (strict mode) is refused before any SQL is sent, or (greedy) pins its set;
 * - a write that reaches a replica-mode runner goes to the primary instead;
 * - a statement a replica refuses as read-only (25006) runs once more on the primary.
 */
export function routeQueryRunner(runner: PostgresQueryRunner, driver: PostgresDriver, router: SetRouter): PostgresQueryRunner {
  const send: Query = runner.query.bind(runner);
  const internals = runner as unknown as RunnerInternals;
  // A transaction refused in strict mode is never started, so TypeORM's ROLLBACK after the
  // error has nothing to undo: it is dropped, and no SQL at all reaches the server.
  let refusedTransaction = false;

  const query = async (sql: string, parameters?: any[], useStructuredResult = false): Promise<any> => {
    const frame = PinDbContext.current();
    if (refusedTransaction && ROLLBACK.test(sql)) {
      refusedTransaction = false;
      return useStructuredResult ? { records: [], raw: [] } : [];
    }
    if (statementKind(sql) === 'write') {
      const onReplica = internals.mode === 'slave' && internals.databaseConnection !== undefined;
      if (onReplica && !TRANSACTION_START.test(sql)) return onPrimary(sql, parameters, useStructuredResult);
      // Not yet connected: the whole runner goes to the primary.
      if (internals.mode === 'slave') internals.mode = 'master';
      try {
        router.beforeWrite(frame);
      } catch (error) {
        if (TRANSACTION_START.test(sql)) refusedTransaction = true;
        throw error;
      }
    }
    const connection = await runner.connect();
    const replica = replicaOfConnection(connection);
    router.recordQuery(frame, replica ? 'replica' : 'primary', replica ? replica.label : router.set.primary.label);
    try {
      return await send(sql, parameters, useStructuredResult);
    } catch (error) {
      if (!replica || sqlState(error) !== READ_ONLY_TRANSACTION || runner.isTransactionActive) throw error;
      router.retriedOnPrimary(frame, sql);
      return onPrimary(sql, parameters, useStructuredResult);
    }
  };

  /** One statement on a fresh primary runner (routed too, so it is checked and counted). */
  const onPrimary = async (sql: string, parameters: any[] | undefined, useStructuredResult: boolean) => {
    const primary = driver.createQueryRunner('master');
    try {
      return await primary.query(sql, parameters, useStructuredResult);
    } finally {
      await primary.release();
    }
  };

  runner.query = query as Query;
  return runner;
}

function sqlState(error: unknown): string | undefined {
  const failed = error as { code?: string; driverError?: { code?: string } };
  return failed?.driverError?.code ?? failed?.code;
}
