import { PinDbConfigError } from '../errors/pin-db-config.error.js';
import { DEFAULT_SET } from '../pin-db.constants.js';

/** What `routing.awaitReplication()` takes. */
export interface AwaitReplicationOptions {
  /** The set whose replicas must have replayed this context's writes. Default: DEFAULT_SET */
  set?: string;
  /** The longest wait, in ms (0: only what is known now); then it resolves false. Required */
  timeoutMs: number;
}

/** setTimeout's longest delay: a longer wait would not be timed. */
const MAX_TIMEOUT_MS = 2 ** 31 - 1;

/** The set and timeout of `routing.awaitReplication(options)`, checked: bad input throws a PinDbConfigError that says what to pass. */
export function awaitReplicationArgs(options: unknown): { set: string; timeoutMs: number } {
  const example = 'e.g. routing.awaitReplication({ timeoutMs: 2000 })';
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new PinDbConfigError(`routing.awaitReplication(options) takes an object { set?, timeoutMs } (got ${String(options)}), ${example}.`);
  }
  const { set = DEFAULT_SET, timeoutMs, ...unknown } = options as { set?: unknown; timeoutMs?: unknown };
  const extra = Object.keys(unknown);
  if (extra.length > 0) throw new PinDbConfigError(`Unknown option ${extra[0]} of routing.awaitReplication(): it takes set and timeoutMs.`);
  if (typeof timeoutMs !== 'number' || !Number.isFinite(timeoutMs) || timeoutMs < 0 || timeoutMs > MAX_TIMEOUT_MS) {
    throw new PinDbConfigError(
      `routing.awaitReplication() needs timeoutMs, a number of milliseconds from 0 to ${MAX_TIMEOUT_MS} (got ${String(timeoutMs)}), ${example}.`,
    );
  }
  if (typeof set !== 'string')
    throw new PinDbConfigError(`routing.awaitReplication(): set must be a set name (got ${String(set)}), or left out for "${DEFAULT_SET}".`);
  return { set, timeoutMs };
}
