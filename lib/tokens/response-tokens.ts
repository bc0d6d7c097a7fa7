import type { ServerResponse } from 'node:http';
import { errorText } from '../errors/error-text.js';
import { ThrottledWarning } from '../logging/throttled-warning.js';
import type { PinRequest } from '../options/pin-db-module-options.js';
import type { ResolvedTokenOptions } from '../options/resolve-options.js';
import type { ContextState } from '../routing/context-state.js';
import { writeResponseToken } from './http-token-transport.js';
import type { PinTokens } from './pin-tokens.js';

/** A token to hand out, or the order to forget the one the client has (`signed` undefined). */
interface Change {
  signed?: string;
  maxAgeSeconds: number;
}

/**
 * Hands each HTTP request's token to its client: in the cookie and the header when the response's
 * headers are written (so handlers that write their own response, with @Res(), @Sse() or a
 * stream, hand it out too), and to the pin store under the client's key. A response whose token
 * did not change sends nothing.
 *
 * The headers are written synchronously, so what the token needs from a server is read before
 * (`prepare`, run as the response starts, its output held meanwhile: PinDbMiddleware): the
 * primary's position for a set pinned without a write, and the store's copy. A write made after
 * the headers went out (in a stream) cannot be in them.
 */
export class ResponseTokens {
  private readonly warnings = new ThrottledWarning();

  constructor(
    private readonly tokens: PinTokens,
    private readonly options: ResolvedTokenOptions,
  ) {}

  /** Before the response is written: what the outgoing token needs. Undefined when it needs nothing. */
  prepare(context: ContextState): Promise<void> | undefined {
    if (context.headersWritten) return undefined;
    const needsPositions = this.tokens.needsPositions(context);
    if (!needsPositions && !this.options.store) return undefined;
    return (needsPositions ? this.tokens.prepare(context) : Promise.resolve()).then(() => this.store(context));
  }

  /** As the response's headers are written. Never throws: the request's work is done. */
  writeHeaders(context: ContextState, response: ServerResponse): void {
    context.headersWritten = true;
    const change = this.change(context);
    if (!change) return;
    try {
      writeResponseToken(response, this.options, change.signed, change.maxAgeSeconds);
    } catch (error) {
      this.warnings.warn('write-token', `Could not write the read-your-writes token on the response: ${errorText(error)}`);
    }
    void this.store(context, change);
  }

  private change(context: ContextState): Change | undefined {
    const before = this.tokens.accept(context);
    const after = this.tokens.outgoing(context);
    if (this.tokens.same(before, after)) return undefined;
    const maxAgeSeconds = Math.max(0, ...[...after.values()].map((entry) => Math.ceil((entry.expiresAt - Date.now()) / 1000)));
    return { signed: after.size > 0 ? this.tokens.signFor(context, after) : undefined, maxAgeSeconds };
  }

  /**
   * Keeps the token (or its absence) in the pin store; again if it changed since (a GraphQL request
   * prepares after each resolver, and a later one may write), each write after the one before.
   */
  private async store(context: ContextState, known?: Change): Promise<void> {
    const { store } = this.options;
    if (!store) return;
    const key = context.clientKey ?? context.storedToken?.key();
    if (key === undefined) return;
    const change = known ?? this.change(context);
    if (!change || context.tokenInStore === (change.signed ?? null)) return;
    context.tokenInStore = change.signed ?? null;
    const previous = context.storeWrite;
    const write = (async () => {
      await previous;
      try {
        if (change.signed) await store.set(key, change.signed, change.maxAgeSeconds, clientAddress(context.request));
        else await store.delete(key);
      } catch (error) {
        this.warnings.warn('store-set', `The pin store failed to keep a token: ${errorText(error)}`);
      }
    })();
    context.storeWrite = write;
    await write;
  }
}

/** Who asked, for a store that bounds the keys one source holds: the framework's `req.ip` (after its trust-proxy rules), else the socket's address. */
function clientAddress(request: PinRequest | undefined): string | undefined {
  const address = request?.ip ?? request?.socket?.remoteAddress;
  return typeof address === 'string' ? address : undefined;
}
