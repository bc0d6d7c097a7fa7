import { PinDbConfigError } from '../errors/pin-db-config.error.js';
import type { ResolvedPinDbOptions } from '../options/resolve-options.js';
import { errorText } from '../errors/error-text.js';
import { ThrottledWarning } from '../logging/throttled-warning.js';
import type { PinRequest } from '../options/pin-db-module-options.js';
import { PinTokens } from '../tokens/pin-tokens.js';
import { ResponseTokens } from '../tokens/response-tokens.js';
import type { RoutingFrame } from './context-state.js';
import { RoutingEvents } from './routing-events.js';
import { SetRouter } from './set-router.js';

/** The routers of every set, by name, and the read-your-writes tokens they share. */
export class PinDbRouter {
  private readonly routers = new Map<string, SetRouter>();
  readonly tokens: PinTokens;
  /** Routing events, for metrics: `events.observe(observer)`. */
  readonly events = new RoutingEvents();

  /** Hands each HTTP request's token to its client. */
  readonly responseTokens: ResponseTokens;
  private readonly warnings = new ThrottledWarning();

  constructor(readonly options: ResolvedPinDbOptions) {
    for (const set of options.sets.values()) {
      this.routers.set(
        set.name,
        new SetRouter(
          set,
          options,
          { accept: (context) => this.tokens.accept(context), loadStored: (context) => this.tokens.loadStored(context) },
          this.events,
        ),
      );
    }
    this.tokens = new PinTokens(options, [...this.routers.values()], this.events);
    this.responseTokens = new ResponseTokens(this.tokens, options.tokens);
  }

  /** The request's client in the pin store (`clientKey`), or undefined: none yet, or clientKey threw (logged). */
  clientKey(request: PinRequest): string | undefined {
    try {
      return this.options.tokens.clientKey?.(request) ?? undefined;
    } catch (error) {
      this.warnings.warn('client-key', `clientKey threw, so this request has no stored token: ${errorText(error)}`);
      return undefined;
    }
  }

  /** Whether any set's reads in `frame` wait for a replica to replay the context's token (SetRouter.waitsForReplay). */
  async waitsForReplay(frame: RoutingFrame): Promise<boolean> {
    const waits = await Promise.all(this.all().map((router) => router.waitsForReplay(frame)));
    return waits.includes(true);
  }

  all(): SetRouter[] {
    return [...this.routers.values()];
  }

  forSet(name: string): SetRouter {
    const router = this.routers.get(name);
    if (!router) {
      throw new PinDbConfigError(
        `No database set "${name}": the sets are ${[...this.routers.keys()].join(', ')}. Fix the name or add the set to PinDbModule's sets.`,
      );
    }
    return router;
  }
}
