import { PinDbConfigError } from '../errors/pin-db-config.error.js';
import type { ResolvedPinDbOptions } from '../options/resolve-options.js';
import { PinTokens } from '../tokens/pin-tokens.js';
import { RoutingEvents } from './routing-events.js';
import { SetRouter } from './set-router.js';

/** The routers of every set, by name, and the read-your-writes tokens they share. */
export class PinDbRouter {
  private readonly routers = new Map<string, SetRouter>();
  readonly tokens: PinTokens;
  /** Routing events, for metrics: `events.observe(observer)`. */
  readonly events = new RoutingEvents();

  constructor(readonly options: ResolvedPinDbOptions) {
    for (const set of options.sets.values()) {
      this.routers.set(set.name, new SetRouter(set, options, (context) => this.tokens.accept(context), this.events));
    }
    this.tokens = new PinTokens(options, [...this.routers.values()], this.events);
  }

  all(): SetRouter[] {
    return [...this.routers.values()];
  }

  forSet(name: string): SetRouter {
    const router = this.routers.get(name);
    if (!router) {
      throw new PinDbConfigError(`No database set "${name}": the sets are ${[...this.routers.keys()].join(', ')}. Fix the name or add the set to PinDbModule's sets.`);
    }
    return router;
  }
}
