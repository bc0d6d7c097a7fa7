/**
 * What a failed statement says about its server:
 * - 'unreachable': the server or the connection to it is gone (refused, reset, DNS, timeouts,
 *   shutdown); another server may answer the same statement.
 * - 'recovery-conflict': a standby cancelled the read to replay WAL; another server may answer it.
 * - undefined: the statement itself failed (syntax, constraint, statement_timeout, …): running it
 *   elsewhere would fail the same way, or only run long again.
 */
export type ServerFailure = 'unreachable' | 'recovery-conflict';

const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE', 'ECONNABORTED']);
/** admin_shutdown, crash_shutdown, cannot_connect_now (starting up or shutting down), too_many_connections. */
const UNAVAILABLE_STATES = new Set(['57P01', '57P02', '57P03', '53300']);
/** node-postgres and pg-pool report lost connections and their own timeouts in messages, without a code. */
const LOST_CONNECTION = /Connection terminated|timeout exceeded when trying to connect|Query read timeout|connection error|Client was closed|not queryable/i;

export function serverFailure(error: unknown): ServerFailure | undefined {
  const { code, message } = driverErrorOf(error);
  if (code !== undefined) {
    if (code === '40P01' || (code === '40001' && /conflict with recovery/i.test(message))) return 'recovery-conflict';
    if (NETWORK_CODES.has(code) || UNAVAILABLE_STATES.has(code) || code.startsWith('08')) return 'unreachable';
    if (/^[0-9A-Z]{5}$/.test(code)) return undefined;
  }
  return LOST_CONNECTION.test(message) ? 'unreachable' : undefined;
}

/** The code (SQLSTATE or Node's) and message of the driver's error, under TypeORM's QueryFailedError if it wraps one. */
export function driverErrorOf(error: unknown): { code?: string; message: string } {
  const failed = (error as { driverError?: unknown })?.driverError ?? error;
  const { code, message } = (failed ?? {}) as { code?: unknown; message?: unknown };
  return { code: typeof code === 'string' ? code : undefined, message: String(message ?? '') };
}
