import { AsyncResource } from 'node:async_hooks';
import { Inject, Injectable, NestMiddleware } from '@nestjs/common';
import { RoutingService } from '../lib/index.js';
import { PRIMARY_SERVERS, routingSummary } from './routing-summary.js';
import { ShopLog } from './shop-log.service.js';

/**
 * One line per request, once the response is sent: where its queries went, from
 * routing.stats(). e.g. `GET /products 200 — replica 127.0.0.1:40013 ×1`.
 *
 * Middleware rather than an interceptor, so that requests a guard refuses (401) and errors
 * (404, 500) are logged with their real status too. PinDbModule's own middleware comes first
 * (Nest runs a global module's middleware before the app's), so this one runs in the request's
 * pinning context; AsyncResource.bind keeps the 'finish' listener in that context.
 */
@Injectable()
export class RequestLogMiddleware implements NestMiddleware {
  constructor(
    private readonly routing: RoutingService,
    private readonly log: ShopLog,
    @Inject(PRIMARY_SERVERS) private readonly primaries: string[],
  ) {}

  use(request: { method: string; originalUrl: string }, response: NodeJS.EventEmitter & { statusCode: number }, next: () => void): void {
    response.once(
      'finish',
      AsyncResource.bind(() => {
        this.log.line(`${request.method} ${request.originalUrl} ${response.statusCode} — ${routingSummary(this.routing.stats(), this.primaries)}`);
      }),
    );
    next();
  }
}
