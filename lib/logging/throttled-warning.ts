import { Logger, type LoggerService } from '@nestjs/common';

export interface ThrottledWarningOptions {
  /** The least time between two warnings of one key, in ms. Default: 10000 */
  intervalMs?: number;
  /** The clock, in epoch milliseconds (for tests). Default: Date.now */
  now?: () => number;
}

interface KeyState {
  /** When the key last logged. */
  loggedAt: number;
  /** Warnings of the key not logged since then. */
  suppressed: number;
}

/**
 * Logs a warning at most once per interval per key, so that a failure hit by every request (a
 * pin store that is down) logs a line every few seconds, not one per request. The next line of a
 * key says how many it held back: "… (12 more since 09:31:02)".
 *
 * Keys name kinds of warning ('store-get', 'store-set'), not requests: each key is kept for the
 * helper's life, so per-request values would grow it without bound.
 */
export class ThrottledWarning {
  private readonly keys = new Map<string, KeyState>();
  private readonly intervalMs: number;
  private readonly now: () => number;

  constructor(
    private readonly logger: Pick<LoggerService, 'warn'> = new Logger('PinDb'),
    { intervalMs = 10_000, now = Date.now }: ThrottledWarningOptions = {},
  ) {
    this.intervalMs = intervalMs;
    this.now = now;
  }

  /** Logs `message`, unless `key` logged less than the interval ago. Returns whether it logged. */
  warn(key: string, message: string): boolean {
    const now = this.now();
    const state = this.keys.get(key);
    if (state && now - state.loggedAt < this.intervalMs) {
      state.suppressed++;
      return false;
    }
    const held = state && state.suppressed > 0 ? ` (${state.suppressed} more since ${clockTime(state.loggedAt)})` : '';
    this.logger.warn(message + held);
    this.keys.set(key, { loggedAt: now, suppressed: 0 });
    return true;
  }
}

/** HH:MM:SS in local time, as Nest's logger stamps its lines. */
export function clockTime(epochMs: number): string {
  const date = new Date(epochMs);
  return [date.getHours(), date.getMinutes(), date.getSeconds()].map((n) => String(n).padStart(2, '0')).join(':');
}
