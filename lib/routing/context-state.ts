import type { PinToken } from '../tokens/pin-token.js';
import { RoutingStatsCollector } from './routing-stats.js';

/** Where reads of a set go. */
export type Target = 'primary' | 'replica';

/** Sets named by a call or decorator; none named means every set. */
class SetSelection {
  private all = false;
  private readonly names = new Set<string>();

  add(sets: readonly string[]): void {
    if (sets.length === 0) this.all = true;
    for (const set of sets) this.names.add(set);
  }

  has(set: string): boolean {
    return this.all || this.names.has(set);
  }
}

/**
 * The state of one pinning context: one HTTP request, message, job or `routing.run()`. It lives
 * as long as the context; scopes (usePrimary / useReplica) layer over it without changing it.
 */
export class ContextState {
  readonly stats = new RoutingStatsCollector();
  private readonly pinned = new SetSelection();
  /** Reads on the primary without a pin (no token follows): the request could not learn what its client wrote. */
  private readonly primaryReads = new SetSelection();
  /** @UseReplica: reads stay on replicas even when pinned. */
  private readonly forcedReplica = new SetSelection();
  /** Tokens the client sent (cookie, header, store, a job's), not yet verified: that happens at the first routing decision. */
  readonly pendingTokens: string[] = [];
  /** The verified token the client sent: what its reads must see. */
  token: PinToken = new Map();
  /** Replay positions of replicas, host:port → LSN, as read during this context (the answer is remembered for the context). */
  readonly replayed = new Map<string, bigint>();
  /** Sets whose token no replica has caught up with yet in this context: their reads go to the primary. */
  readonly behind = new Set<string>();

  pin(sets: readonly string[]): void {
    this.pinned.add(sets);
  }

  isPinned(set: string): boolean {
    return this.pinned.has(set);
  }

  readFromPrimary(sets: readonly string[]): void {
    this.primaryReads.add(sets);
  }

  readsFromPrimary(set: string): boolean {
    return this.primaryReads.has(set);
  }

  useReplica(sets: readonly string[]): void {
    this.forcedReplica.add(sets);
  }

  readsForcedToReplica(set: string): boolean {
    return this.forcedReplica.has(set);
  }
}

/** A usePrimary / useReplica scope: its target for the sets it names (none named: every set). */
export interface ScopeOverride {
  target: Target;
  sets: readonly string[];
}

/** What the AsyncLocalStorage holds: the context, and the innermost scope over it. */
export interface RoutingFrame {
  readonly context: ContextState;
  readonly override?: ScopeOverride;
  readonly parent?: RoutingFrame;
}

/** The target the innermost scope naming `set` imposes, if any. */
export function scopedTarget(frame: RoutingFrame, set: string): Target | undefined {
  for (let current: RoutingFrame | undefined = frame; current; current = current.parent) {
    const override = current.override;
    if (override && (override.sets.length === 0 || override.sets.includes(set))) return override.target;
  }
  return undefined;
}
