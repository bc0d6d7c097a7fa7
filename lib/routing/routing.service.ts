import { Inject, Injectable } from '@nestjs/common';
import { DEFAULT_SET } from '../pin-db.constants.js';
import { PinDbRouter } from './pin-db.router.js';
import { PinDbContext } from './pin-db.context.js';
import type { RoutingFrame, Target } from './context-state.js';
import type { RoutingStats } from './routing-stats.js';

/**
 * Where this context's queries go, and the means to steer them. A singleton: its state is the
 * current context's, read from AsyncLocalStorage, so it can be injected anywhere.
 */
@Injectable()
export class RoutingService {
  constructor(@Inject(PinDbRouter) private readonly router: PinDbRouter) {}

  /** Reads of `sets` (none named: every set) go to their primary for the rest of the context. */
  pin(...sets: string[]): void {
    this.checkSets(sets);
    this.requireFrame('pin').context.pin(sets);
  }

  isPinned(set = DEFAULT_SET): boolean {
    this.checkSets([set]);
    return PinDbContext.current()?.context.isPinned(set) ?? false;
  }

  /** Runs fn with reads and writes of `sets` (none named: every set) on the primary; allowed in strict mode. */
  usePrimary<T>(fn: () => T, ...sets: string[]): T {
    this.checkSets(sets);
    return PinDbContext.scope({ target: 'primary', sets }, fn);
  }

  /** Runs fn with reads of `sets` (none named: every set) on replicas, even if pinned. Writes still go to the primary. */
  useReplica<T>(fn: () => T, ...sets: string[]): T {
    this.checkSets(sets);
    return PinDbContext.scope({ target: 'replica', sets }, fn);
  }

  /**
   * Runs fn in a fresh context (a job, a script, a test); it ends when fn settles. With a token
   * from `token()`, its reads see the writes the token stands for.
   */
  run<T>(fn: () => T, options: { token?: string } = {}): T {
    return PinDbContext.runWithToken(options.token, fn);
  }

  /**
   * This context's read-your-writes token, to hand to a job you enqueue after a write (undefined
   * when the context neither wrote nor carries one). In lsn mode it reads the primary's WAL
   * position, hence a promise.
   */
  async token(): Promise<string | undefined> {
    const frame = PinDbContext.current();
    if (!frame || !this.router.options.enabled) return undefined;
    const { tokens } = this.router;
    await tokens.prepare(frame.context);
    const token = tokens.outgoing(frame.context);
    return token.size > 0 ? tokens.sign(token) : undefined;
  }

  /** Where the next read of `set` goes in this context ('primary' also when no replica can serve now: down or lagging). */
  target(set = DEFAULT_SET): Target {
    const router = this.router.forSet(set);
    const target = router.target(PinDbContext.current());
    return target === 'replica' && !router.hasReadableReplica() ? 'primary' : target;
  }

  /** This context's queries by set and by server. */
  stats(): RoutingStats {
    return PinDbContext.current()?.context.stats.snapshot() ?? { queries: 0, sets: {}, ignoredTokens: 0 };
  }

  private checkSets(sets: string[]): void {
    for (const set of sets) this.router.forSet(set);
  }

  private requireFrame(method: string): RoutingFrame {
    const frame = PinDbContext.current();
    if (!frame) {
      throw new Error(
        `routing.${method}() was called outside a pinning context. HTTP requests have one; for a job, ` +
          'a cron or a script, wrap the work in routing.run(() => ...) or decorate the method with @PinningContext().',
      );
    }
    return frame;
  }
}
