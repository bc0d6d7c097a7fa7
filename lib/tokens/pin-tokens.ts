import { Logger } from '@nestjs/common';
import { errorText } from '../errors/error-text.js';
import type { ResolvedPinDbOptions } from '../options/resolve-options.js';
import type { ContextState } from '../routing/context-state.js';
import type { RoutingObserver } from '../routing/routing-events.js';
import { deserializeToken, mergeTokens, PinToken, serializeToken, SetToken } from './pin-token.js';
import { TokenSigner } from './token-signer.js';

/** What a set router tells the tokens: where its primary is, and whether its replicas have caught up. */
export interface TokenSetSource {
  readonly name: string;
  /** The primary's WAL insert position, read once per set when a context that pinned it ends. */
  primaryLsn(): Promise<bigint>;
  /** Whether every replica is known, in this context, to have replayed `lsn`. */
  caughtUpEverywhere(context: ContextState, lsn: bigint): boolean;
}

/**
 * Read-your-writes tokens: verifies what clients send (anything invalid is ignored, never an
 * error), and makes what a context that pinned sets hands back.
 */
export class PinTokens {
  private readonly signer: TokenSigner;
  private readonly knownSets: ReadonlySet<string>;
  private readonly logger = new Logger('PinDb');

  constructor(
    private readonly options: ResolvedPinDbOptions,
    private readonly sets: readonly TokenSetSource[],
    private readonly events?: Pick<RoutingObserver, 'tokenIssued' | 'tokenIgnored'>,
  ) {
    this.signer = new TokenSigner(options.tokens.secrets);
    this.knownSets = new Set(sets.map((set) => set.name));
  }

  /** Verifies the context's pending tokens into its token. Cheap when there are none. */
  accept(context: ContextState): PinToken {
    if (context.pendingTokens.length === 0) return context.token;
    for (const text of context.pendingTokens.splice(0)) {
      const payload = this.signer.verify(text);
      if (payload === undefined) {
        context.stats.ignoredToken();
        this.events?.tokenIgnored();
        if (Logger.isLevelEnabled('debug')) this.logger.debug(`ignored a token that does not verify (${String(text).length} chars)`);
        continue;
      }
      context.token = mergeTokens(context.token, deserializeToken(payload, this.knownSets));
    }
    return context.token;
  }

  /**
   * The token a client should carry after this context: what it brought, less the sets every
   * replica has caught up with (unstick) and what expired, plus an entry per set pinned here.
   */
  async outgoing(context: ContextState): Promise<PinToken> {
    const now = Date.now();
    const kept: PinToken = new Map();
    for (const [name, entry] of this.accept(context)) {
      if (entry.expiresAt <= now) continue;
      const set = this.sets.find((candidate) => candidate.name === name);
      if (entry.lsn !== undefined && set?.caughtUpEverywhere(context, entry.lsn)) continue;
      kept.set(name, entry);
    }
    const expiresAt = now + this.options.pinSeconds * 1000;
    const pinned = this.sets.filter((set) => context.isPinned(set.name));
    const fresh = await Promise.all(pinned.map(async (set): Promise<[string, SetToken]> => [set.name, { lsn: await this.lsnFor(set), expiresAt }]));
    return mergeTokens(kept, new Map(fresh));
  }

  /**
   * lsn mode: the primary's position now. If the primary cannot say (it went down after the
   * write), the entry has no LSN, which pins the set like a time-mode token: safe, and no error
   * for a request whose work is done.
   */
  private async lsnFor(set: TokenSetSource): Promise<bigint | undefined> {
    if (this.options.consistency !== 'lsn') return undefined;
    try {
      return await set.primaryLsn();
    } catch (error) {
      this.logger.warn(`${set.name}: could not read the primary's WAL position for a token, so it pins the set for pinSeconds instead: ${errorText(error)}`);
      return undefined;
    }
  }

  sign(token: PinToken): string {
    this.events?.tokenIssued();
    return this.signer.sign(serializeToken(token));
  }

  /** Whether two tokens say the same, to the second. */
  same(a: PinToken, b: PinToken): boolean {
    return serializeToken(a) === serializeToken(b);
  }
}
