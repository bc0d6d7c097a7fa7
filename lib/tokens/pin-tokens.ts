import { Logger } from '@nestjs/common';
import { errorText } from '../errors/error-text.js';
import type { ResolvedPinDbOptions } from '../options/resolve-options.js';
import type { ContextState } from '../routing/context-state.js';
import type { RoutingObserver } from '../routing/routing-events.js';
import { deserializeToken, mergeTokens, PinToken, serializeToken } from './pin-token.js';
import { tokenLifetimeSeconds } from './token-lifetime.js';
import { TokenSigner } from './token-signer.js';
import { ThrottledWarning } from '../logging/throttled-warning.js';

/** What a set router tells the tokens: where its primary is, and whether its replicas have caught up. */
export interface TokenSetSource {
  readonly name: string;
  /** The primary's WAL position as last seen (a health check, a commit), for a token that cannot wait for a fresh one. */
  readonly primary: { readonly lastLsn?: bigint };
  /** The primary's WAL insert position now. */
  primaryLsn(): Promise<bigint>;
  /** Whether every replica is known, in this context, to have replayed `lsn`. */
  caughtUpEverywhere(context: ContextState, lsn: bigint): boolean;
}

/**
 * Read-your-writes tokens: verifies what clients send (anything invalid is ignored, never an
 * error), loads a cookieless client's from the pin store, and makes what a context hands back.
 *
 * What a context hands back for a set it pinned:
 * - it wrote, and saw each commit's WAL position: that position (later than any the client brought);
 * - it wrote, but a write's outcome or position is unknown (its connection broke, or it was still
 *   running when the token went out): an entry without a position, which pins by time;
 * - it pinned without a write (its method, @Pin, routing.pin): the primary's position when the
 *   token was prepared (`prepare`), else the last one seen; none if the primary could not say,
 *   since nothing was written that the client could miss.
 */
export class PinTokens {
  private readonly signer: TokenSigner;
  private readonly knownSets: ReadonlySet<string>;
  private readonly logger = new Logger('PinDb');
  private readonly warnings = new ThrottledWarning(this.logger);
  /** How long an entry lives (token-lifetime.ts). */
  readonly lifetimeMs: number;

  constructor(
    private readonly options: ResolvedPinDbOptions,
    private readonly sets: readonly TokenSetSource[],
    private readonly events?: Pick<RoutingObserver, 'tokenIssued' | 'tokenIgnored'>,
  ) {
    this.signer = new TokenSigner(options.tokens.secrets);
    this.knownSets = new Set(sets.map((set) => set.name));
    this.lifetimeMs = tokenLifetimeSeconds(options.consistency, options.pinSeconds, options.health) * 1000;
  }

  /**
   * Verifies the context's pending tokens into its token. Cheap when there are none. An expiry
   * further away than this server would give is brought back to that.
   */
  accept(context: ContextState): PinToken {
    if (context.pendingTokens.length === 0) return context.token;
    const latest = Date.now() + this.lifetimeMs;
    for (const text of context.pendingTokens.splice(0)) {
      const payload = this.signer.verify(text);
      if (payload === undefined) {
        context.stats.ignoredToken();
        this.events?.tokenIgnored();
        if (Logger.isLevelEnabled('debug')) this.logger.debug(`ignored a token that does not verify (${String(text).length} chars)`);
        continue;
      }
      const token = deserializeToken(payload, this.knownSets);
      for (const [set, entry] of token) if (entry.expiresAt > latest) token.set(set, { ...entry, expiresAt: latest });
      context.token = mergeTokens(context.token, token);
    }
    return context.token;
  }

  /**
   * Loads a cookieless client's token from the pin store, once, as soon as the request can name the
   * client's key. Undefined when there is nothing to wait for (no store, loaded, or no key yet).
   * A store that fails sends the request's reads to the primaries, without a pin.
   */
  loadStored(context: ContextState): Promise<void> | undefined {
    const pending = context.storedToken;
    if (!pending) return undefined;
    if (pending.done) return pending.done;
    const key = pending.key();
    if (key === undefined) return undefined;
    context.clientKey = key;
    pending.done = this.options.tokens.store!.get(key).then(
      (token) => {
        if (token) context.pendingTokens.push(token);
        context.storedToken = undefined;
      },
      (error: unknown) => {
        // The client may have written moments ago: without its token, only the primary is safe. Not
        // a pin: a request that only reads hands out no token (and asks the failing store nothing more).
        this.warnings.warn('store-get', `The pin store failed, so this request reads from the primaries: ${errorText(error)}`);
        context.readFromPrimary([]);
        context.storedToken = undefined;
      },
    );
    return pending.done;
  }

  /** Whether the outgoing token needs a position read from a primary: a set pinned without a write. */
  needsPositions(context: ContextState): boolean {
    return this.options.consistency === 'lsn' && this.sets.some((set) => this.needsPosition(context, set));
  }

  /** Reads what the outgoing token needs from the primaries: the position of each set pinned without a write. */
  async prepare(context: ContextState): Promise<void> {
    if (this.options.consistency !== 'lsn') return;
    const unread = this.sets.filter((set) => this.needsPosition(context, set));
    await Promise.all(
      unread.map(async (set) => {
        try {
          context.pinLsns.set(set.name, await set.primaryLsn());
        } catch (error) {
          // Nothing was written that the client could miss: no entry rather than a pin to a primary that does not answer.
          this.warnings.warn(
            `position:${set.name}`,
            `${set.name}: could not read the primary's WAL position for a token, so this response pins nothing: ${errorText(error)}`,
          );
          context.pinLsns.set(set.name, null);
        }
      }),
    );
  }

  private needsPosition(context: ContextState, set: TokenSetSource): boolean {
    const writes = context.writes.get(set.name);
    return context.isPinned(set.name) && writes?.committedLsn === undefined && writes?.settled !== false && !context.pinLsns.has(set.name);
  }

  /**
   * The token a client should carry after this context, from what is known now: synchronous, since
   * it is written when the response's headers are. What the client brought, less what expired and
   * the sets every replica has caught up with (unstick), with an entry per set pinned here.
   */
  outgoing(context: ContextState, now = Date.now()): PinToken {
    const token: PinToken = new Map();
    for (const [name, entry] of this.accept(context)) {
      if (entry.expiresAt <= now) continue;
      const set = this.sets.find((candidate) => candidate.name === name);
      if (entry.lsn !== undefined && set?.caughtUpEverywhere(context, entry.lsn)) continue;
      token.set(name, entry);
    }
    const expiresAt = now + this.lifetimeMs;
    for (const set of this.sets) {
      if (!context.isPinned(set.name)) continue;
      if (this.options.consistency !== 'lsn') {
        token.set(set.name, { expiresAt });
        continue;
      }
      const writes = context.writes.get(set.name);
      if (writes && !writes.settled) token.set(set.name, { expiresAt });
      else if (writes?.committedLsn !== undefined) token.set(set.name, { lsn: writes.committedLsn, expiresAt });
      else {
        const read = context.pinLsns.get(set.name);
        const lsn = read === undefined ? set.primary.lastLsn : (read ?? undefined);
        const kept = token.get(set.name);
        // A kept entry without a position (a write whose position is unknown) stays as it is.
        if (lsn !== undefined && kept?.lsn !== undefined) token.set(set.name, { lsn: kept.lsn > lsn ? kept.lsn : lsn, expiresAt });
        else if (lsn !== undefined && !kept) token.set(set.name, { lsn, expiresAt });
      }
    }
    return token;
  }

  sign(token: PinToken): string {
    this.events?.tokenIssued();
    return this.signer.sign(serializeToken(token));
  }

  /** `sign`, once per context for the same token: a response hands one token to its store and its headers. */
  signFor(context: ContextState, token: PinToken): string {
    const payload = serializeToken(token);
    if (context.signed?.payload !== payload) {
      this.events?.tokenIssued();
      context.signed = { payload, token: this.signer.sign(payload) };
    }
    return context.signed.token;
  }

  /** Whether two tokens say the same, to the second. */
  same(a: PinToken, b: PinToken): boolean {
    return serializeToken(a) === serializeToken(b);
  }
}
