import { PinDbConfigError } from '../errors/pin-db-config.error.js';

/** PinDbBullModule.forRoot(options): how jobs with 'delayed' consistency wait for the replicas. */
export class PinDbBullOptions {
  /** How long a 'delayed' job is put back for, each time no readable replica has replayed its token, in ms. Default: 1000 */
  delayMs?: number = 1000;
  /** How many times a 'delayed' job is put back at most; then it runs as 'sticky' (its reads go to the primary if still no replica has caught up). Default: 3 */
  maxDelays?: number = 3;
}

export type ResolvedPinDbBullOptions = Required<PinDbBullOptions>;

export const PIN_DB_BULL_OPTIONS = Symbol('PIN_DB_BULL_OPTIONS');

const KEYS = Object.keys(new PinDbBullOptions());

/** Checked where the module is declared, so that a bad option fails the bootstrap naming the fix. */
export function resolvePinDbBullOptions(options: PinDbBullOptions = {}): ResolvedPinDbBullOptions {
  if (typeof options !== 'object' || options === null) {
    throw new PinDbConfigError(`PinDbBullModule.forRoot takes options such as { delayMs: 1000, maxDelays: 3 } (got ${JSON.stringify(options)}).`);
  }
  for (const key of Object.keys(options)) {
    if (!KEYS.includes(key)) throw new PinDbConfigError(`Unknown PinDbBullModule option ${key}: it has ${KEYS.join(', ')}.`);
  }
  const resolved = { ...new PinDbBullOptions(), ...stripUndefined(options) } as ResolvedPinDbBullOptions;
  if (!Number.isInteger(resolved.delayMs) || resolved.delayMs < 1) {
    throw new PinDbConfigError(
      `PinDbBullModule option delayMs must be a whole number of milliseconds ≥ 1, e.g. 1000 (got ${JSON.stringify(resolved.delayMs)}).`,
    );
  }
  if (!Number.isInteger(resolved.maxDelays) || resolved.maxDelays < 0) {
    throw new PinDbConfigError(`PinDbBullModule option maxDelays must be a whole number ≥ 0, e.g. 3 (got ${JSON.stringify(resolved.maxDelays)}).`);
  }
  return resolved;
}

function stripUndefined(options: PinDbBullOptions): PinDbBullOptions {
  return Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined));
}
