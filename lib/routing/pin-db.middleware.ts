import { Inject, Injectable, NestMiddleware } from '@nestjs/common';
import type { PinRequest } from '../options/pin-db-module-options.js';
import type { ResolvedPinDbOptions } from '../options/resolve-options.js';
import { requestTokens } from '../tokens/http-token-transport.js';
import { PIN_DB_OPTIONS } from '../pin-db.constants.js';
import { ContextState } from './context-state.js';
import { PinDbContext } from './pin-db.context.js';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE']);

/**
 * Opens each HTTP request's context. Middleware runs before guards, so a guard that loads the
 * user already reads where the request's pins say. A request that may write (any method but
 * GET, HEAD, OPTIONS, TRACE) is pinned from its start. The tokens the request carries (cookie,
 * header) are kept for the first routing decision, which verifies them.
 */
@Injectable()
export class PinDbMiddleware implements NestMiddleware {
  constructor(@Inject(PIN_DB_OPTIONS) private readonly options: ResolvedPinDbOptions) {}

  use(request: PinRequest & { method?: string }, _response: unknown, next: () => void): void {
    const context = new ContextState();
    if (!SAFE_METHODS.has(request.method ?? 'GET') && this.options.pinUnsafeMethods.length > 0) {
      context.pin(this.options.pinUnsafeMethods);
    }
    if (this.options.enabled) context.pendingTokens.push(...requestTokens(request, this.options.tokens));
    PinDbContext.run(next, context);
  }
}
