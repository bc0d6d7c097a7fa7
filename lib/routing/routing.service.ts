import { Inject, Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { DEFAULT_SET } from '../pin-db.constants.js';
import { PinDbRouter } from './pin-db.router.js';
import { PinDbContext } from './pin-db.context.js';
import type { RoutingFrame, Target } from './context-state.js';
import type { RoutingStats } from './routing-stats.js';
import { awaitReplicationArgs, type AwaitReplicationOptions } from './await-replication.js';
import { replicaScopeArgs, type UseReplicaOptions } from './replica-scope-options.js';
import { replicaIsolation, replicaTransaction, type ReplicaTransactionOptions } from '../typeorm/replica-transaction.js';

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

  /**
   * Runs fn with reads of `sets` (none named: every set) on replicas, even if pinned. Writes still
   * go to the primary. The options form: `{ sets, maxLagMs, preventWrites }` (maxLagMs: only
   * replicas at most that far behind, else the primary; preventWrites: a write inside throws
   * ReplicaScopeWriteError before it is sent).
   */
  useReplica<T>(fn: () => T, ...sets: string[]): T;
  useReplica<T>(fn: () => T, options: UseReplicaOptions): T;
  useReplica<T>(fn: () => T, ...args: unknown[]): T {
    const { sets, maxLagMs, preventWrites } = replicaScopeArgs('routing.useReplica(fn, ...)', args);
    this.checkSets(sets);
    return PinDbContext.scope({ target: 'replica', sets, maxLagMs, preventWrites }, fn);
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
    // A cookieless client's stored token, if no read has loaded it yet (a handler that wrote without reading).
    await tokens.loadStored(frame.context);
    await tokens.prepare(frame.context);
    const token = tokens.outgoing(frame.context);
    return token.size > 0 ? tokens.sign(token) : undefined;
  }

  /** Where the next read of `set` goes in this context ('primary' also when no replica can serve now: down or lagging, or none within its scope's maxLagMs). */
  target(set = DEFAULT_SET): Target {
    const router = this.router.forSet(set);
    const frame = PinDbContext.current();
    const target = router.target(frame);
    return target === 'replica' && !router.hasReadableReplica(frame) ? 'primary' : target;
  }

  /**
   * Runs fn(manager) in one READ ONLY transaction (default REPEATABLE READ: one snapshot for every
   * query of fn) on one replica that may serve this context, else on the primary. Committed when fn
   * resolves, rolled back when it throws. A write inside fails (25006) and is not sent elsewhere;
   * a replica lost mid-transaction fails it. SERIALIZABLE runs on the primary.
   */
  async replicaTransaction<T>(fn: (manager: EntityManager) => T | Promise<T>, options: ReplicaTransactionOptions = {}): Promise<T> {
    const isolation = replicaIsolation(options.isolation);
    return replicaTransaction(this.router.forSet(options.set ?? DEFAULT_SET), fn, isolation);
  }

  /**
   * Resolves true once every readable replica of `set` has replayed this context's writes to it
   * (at once when it wrote none), false after `timeoutMs`: for a webhook or message sent right
   * after a write, whose receiver reads a replica without this context's token.
   */
  async awaitReplication(options: AwaitReplicationOptions): Promise<boolean> {
    const { set, timeoutMs } = awaitReplicationArgs(options);
    const router = this.router.forSet(set);
    return router.awaitReplication(this.requireFrame('awaitReplication').context, timeoutMs);
  }

  /** This context's queries by set and by server. */
  stats(): RoutingStats {
    return PinDbContext.current()?.context.stats.snapshot() ?? { queries: 0, sets: {}, ignoredTokens: 0 };
  }

  private checkSets(sets: readonly string[]): void {
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
