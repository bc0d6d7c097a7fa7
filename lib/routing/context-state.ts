import type { PinRequest } from '../options/pin-db-module-options.js';
import type { PinToken } from '../tokens/pin-token.js';
import type { ReplicaScopeOptions } from './replica-scope-options.js';
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
 * The sets @UseReplica named in a context, with the options each was named with. Named more than
 * once (a GraphQL request's resolvers each apply theirs), the stricter options hold: the least
 * maxLagMs, preventWrites if any asked for it.
 */
class ForcedReplicas {
  /** Named with no set: every set. */
  private all?: ReplicaScopeOptions;
  private readonly named = new Map<string, ReplicaScopeOptions>();

  add(sets: readonly string[], options: ReplicaScopeOptions): void {
    if (sets.length === 0) {
      this.all = stricter(this.all, options);
      for (const [set, named] of this.named) this.named.set(set, stricter(named, options));
    }
    for (const set of sets) this.named.set(set, stricter(this.named.get(set) ?? this.all, options));
  }

  /** The options `set` was named with (undefined: not named). Runs for every read. */
  get(set: string): ReplicaScopeOptions | undefined {
    return this.named.get(set) ?? this.all;
  }
}

function stricter(a: ReplicaScopeOptions | undefined, b: ReplicaScopeOptions): ReplicaScopeOptions {
  if (!a) return { maxLagMs: b.maxLagMs, preventWrites: b.preventWrites };
  const lags = [a.maxLagMs, b.maxLagMs].filter((lag) => lag !== undefined);
  return { maxLagMs: lags.length > 0 ? Math.min(...lags) : undefined, preventWrites: a.preventWrites || b.preventWrites };
}

/**
 * What a context wrote to one set's primary, for its read-your-writes token. A write whose commit
 * was seen gives the exact WAL position to wait for; one whose outcome or position is unknown (its
 * connection was lost after it was sent, or it is still streaming) can only pin by time.
 */
export class SetWrites {
  /** The primary's WAL position read right after the context's last commit of the set. */
  committedLsn?: bigint;
  /** A write was sent whose commit position is not known. */
  uncertain = false;
  /** Runners with a write in flight or in an open transaction: a token handed out meanwhile cannot know its position. */
  unsettled = 0;

  committed(lsn: bigint): void {
    if (this.committedLsn === undefined || lsn > this.committedLsn) this.committedLsn = lsn;
  }

  /** The position of every write is known (or there was none). */
  get settled(): boolean {
    return !this.uncertain && this.unsettled === 0;
  }
}

/**
 * The client's token in a pin store, loaded at the first routing decision that can name the
 * client's key (`clientKey` may need a user that a guard sets: until it answers, the load waits).
 */
export interface StoredTokenLoad {
  /** The client's key in the store, or undefined while the request cannot name it yet. */
  key(): string | undefined;
  /** Set once loaded (or failed): later decisions do not ask the store again. */
  done?: Promise<void>;
}

/**
 * The state of one pinning context: one HTTP request, message, job or `routing.run()`. It lives
 * as long as the context; scopes (usePrimary / useReplica) layer over it without changing it.
 * Every HTTP request makes one, most of them to read a row or two: the collections are made when
 * first used, so a context that never pins, carries no token or writes holds none of them.
 */
export class ContextState {
  private statsCollector?: RoutingStatsCollector;
  private pinned?: SetSelection;
  /**
   * The pin of an HTTP request's method (pinUnsafeMethods), apart from the others: a GraphQL request
   * is a POST whatever it does, and one of queries only drops it at its first resolver.
   */
  private methodPinned?: SetSelection;
  /** A GraphQL request's verdict on the method's pin: being made (reading its batch), or made. */
  methodPinVerdict?: Promise<void> | 'made';
  /** Reads on the primary without a pin (no token follows): the request could not learn what its client wrote. */
  private primaryReads?: SetSelection;
  /** @UseReplica: reads stay on replicas even when pinned, with the decorator's options. */
  private forcedReplica?: ForcedReplicas;
  /** Tokens the client sent (cookie, header, store, a job's), not yet verified: that happens at the first routing decision. */
  readonly pendingTokens: string[] = [];
  /** The verified token the client sent: what its reads must see. */
  token: PinToken = new Map();
  private replayedPositions?: Map<string, bigint>;
  private behindSets?: Set<string>;
  private writesBySet?: Map<string, SetWrites>;
  private pinLsnsBySet?: Map<string, bigint | null>;
  /** A cookieless client's token in the pin store, not yet loaded. */
  storedToken?: StoredTokenLoad;
  /** Opened by the middleware for an HTTP request: its response hands out the token. */
  http = false;
  /** The HTTP request: Node's at first, with a pin store the framework's (Express, Fastify) once PinDb's guard runs, for `clientKey`. */
  request?: PinRequest;
  /** The client's key in the pin store, once the request could name it. */
  clientKey?: string;
  /** The response's headers, with the token, are written: nothing more reaches the client. */
  headersWritten = false;
  /** The token last handed to the pin store (null: its deletion): written again only when it changed (a later resolver of a GraphQL request wrote). */
  tokenInStore?: string | null;
  /** The pin store's last write for this context: the next one waits for it, so that they land in order. */
  storeWrite?: Promise<void>;
  /** The token this context signed last, by payload: signed once however often it is handed out. */
  signed?: { payload: string; token: string };
  /**
   * Called once, at the context's first pin (its method's, @Pin, routing.pin(), a write): an HTTP
   * request that carried no token starts watching its response then, to hand one out.
   */
  onFirstPin?: () => void;

  /** The context's queries, retries, fallbacks and waits. */
  get stats(): RoutingStatsCollector {
    return (this.statsCollector ??= new RoutingStatsCollector());
  }

  /** Replay positions of replicas, host:port → LSN, as read during this context (the answer is remembered for the context). */
  get replayed(): Map<string, bigint> {
    return (this.replayedPositions ??= new Map());
  }

  /** Whether no replica has caught up with the token of `set` yet in this context: its reads go to the primary. Runs for every read. */
  isBehind(set: string): boolean {
    return this.behindSets !== undefined && this.behindSets.has(set);
  }

  /** No replica has caught up with the token of `set` in this context: the rest of its reads of the set go to the primary. */
  fellBehind(set: string): void {
    (this.behindSets ??= new Set()).add(set);
  }

  /** What this context wrote, by set. */
  get writes(): Map<string, SetWrites> {
    return (this.writesBySet ??= new Map());
  }

  /** For sets pinned without a write: the primary's position read when the token was prepared; null: it could not be read (nothing to hand out). */
  get pinLsns(): Map<string, bigint | null> {
    return (this.pinLsnsBySet ??= new Map());
  }

  /** What the context wrote to `set` (created on first use). */
  writesOf(set: string): SetWrites {
    let writes = this.writes.get(set);
    if (!writes) this.writes.set(set, (writes = new SetWrites()));
    return writes;
  }

  pin(sets: readonly string[]): void {
    (this.pinned ??= new SetSelection()).add(sets);
    this.pinnedOnce();
  }

  isPinned(set: string): boolean {
    return (this.pinned !== undefined && this.pinned.has(set)) || (this.methodPinned !== undefined && this.methodPinned.has(set));
  }

  /** Pins `sets` for the request's method; `dropMethodPin` can take it back, and nothing else. */
  pinForMethod(sets: readonly string[]): void {
    (this.methodPinned ??= new SetSelection()).add(sets);
    this.pinnedOnce();
  }

  private pinnedOnce(): void {
    const onFirstPin = this.onFirstPin;
    if (!onFirstPin) return;
    this.onFirstPin = undefined;
    onFirstPin();
  }

  get hasMethodPin(): boolean {
    return this.methodPinned !== undefined;
  }

  /** The request turned out to send no write (a GraphQL request of queries only): its other pins stay. */
  dropMethodPin(): void {
    this.methodPinned = undefined;
  }

  readFromPrimary(sets: readonly string[]): void {
    (this.primaryReads ??= new SetSelection()).add(sets);
  }

  readsFromPrimary(set: string): boolean {
    return this.primaryReads !== undefined && this.primaryReads.has(set);
  }

  /** @UseReplica(sets or options) on the handler: for the whole context. */
  useReplica(sets: readonly string[], options: ReplicaScopeOptions = {}): void {
    (this.forcedReplica ??= new ForcedReplicas()).add(sets, options);
  }

  readsForcedToReplica(set: string): boolean {
    return this.forcedReplicaOptions(set) !== undefined;
  }

  /** The options of the @UseReplica that named `set` (undefined: none did). */
  forcedReplicaOptions(set: string): ReplicaScopeOptions | undefined {
    return this.forcedReplica?.get(set);
  }
}

/**
 * A usePrimary / useReplica scope: its target for the sets it names (none named: every set), and
 * for a useReplica scope its options (maxLagMs, preventWrites).
 */
export interface ScopeOverride extends ReplicaScopeOptions {
  target: Target;
  sets: readonly string[];
}

/** What the AsyncLocalStorage holds: the context, and the innermost scope over it. */
export interface RoutingFrame {
  readonly context: ContextState;
  readonly override?: ScopeOverride;
  readonly parent?: RoutingFrame;
}

/** The innermost scope naming `set`, if any. */
export function innermostScope(frame: RoutingFrame, set: string): ScopeOverride | undefined {
  for (let current: RoutingFrame | undefined = frame; current; current = current.parent) {
    const override = current.override;
    if (override && (override.sets.length === 0 || override.sets.includes(set))) return override;
  }
  return undefined;
}

/** The target the innermost scope naming `set` imposes, if any. */
export function scopedTarget(frame: RoutingFrame, set: string): Target | undefined {
  return innermostScope(frame, set)?.target;
}
