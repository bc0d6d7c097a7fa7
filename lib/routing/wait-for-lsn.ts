import { formatLsn } from '../tokens/lsn.js';

/**
 * PostgreSQL 19's `WAIT FOR LSN`: a replica waits for its own replay to reach a position, without
 * polling. Before 19 there is no such statement, and the set's shared poll loop (replay-watch.ts)
 * does the waiting instead.
 */

/** server_version_num from which `WAIT FOR LSN … WITH (TIMEOUT, NO_THROW)` exists. */
export const WAIT_FOR_LSN_VERSION = 190000;

/** What `WAIT FOR LSN … NO_THROW` answers: replayed in time, not in time, or the server is no longer a replica. */
export type WaitForLsnStatus = 'success' | 'timeout' | 'not in recovery';

const MAX_LSN = (1n << 64n) - 1n;

/**
 * The statement that makes a replica wait up to `timeoutMs` (rounded up to whole ms, at least 1)
 * for its replay to reach `lsn`, answering a status row instead of an error on timeout. Both
 * values are checked here, since they go into the SQL text (WAIT FOR takes no parameters).
 * It cannot run in a transaction above READ COMMITTED nor in a function: send it alone, outside
 * any transaction.
 */
export function waitForLsnStatement(lsn: bigint, timeoutMs: number): string {
  if (typeof lsn !== 'bigint' || lsn < 0n || lsn > MAX_LSN) throw new RangeError(`waitForLsnStatement: ${String(lsn)} is not a WAL position (0 to 2^64 − 1).`);
  if (typeof timeoutMs !== 'number' || !Number.isFinite(timeoutMs) || timeoutMs <= 0) {
    throw new RangeError(`waitForLsnStatement: the timeout must be a finite number of milliseconds > 0 (got ${String(timeoutMs)}).`);
  }
  return `WAIT FOR LSN '${formatLsn(lsn)}' WITH (TIMEOUT '${Math.ceil(timeoutMs)}ms', NO_THROW)`;
}

/** The status in `WAIT FOR LSN`'s result row (its one column), or undefined for anything else. */
export function waitForLsnStatus(rows: readonly Record<string, unknown>[]): WaitForLsnStatus | undefined {
  const value = rows.length === 1 ? Object.values(rows[0])[0] : undefined;
  return value === 'success' || value === 'timeout' || value === 'not in recovery' ? value : undefined;
}

/** Whether a replica of this server_version_num has `WAIT FOR LSN`. */
export function hasWaitForLsn(version: number | undefined): boolean {
  return version !== undefined && version >= WAIT_FOR_LSN_VERSION;
}
