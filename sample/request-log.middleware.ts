import { AsyncResource } from 'node:async_hooks';
import { Inject, Injectable, NestMiddleware } from '@nestjs/common';
import { RoutingService, RoutingStats } from '../lib/index.js';

/** `host:port` of every set's primary, to tell the primary from the replicas in the log. */
export const PRIMARY_SERVERS = Symbol('PRIMARY_SERVERS');

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
    @Inject(PRIMARY_SERVERS) private readonly primaries: string[],
  ) {}

  use(request: { method: string; originalUrl: string }, response: NodeJS.EventEmitter & { statusCode: number }, next: () => void): void {
    response.once(
      'finish',
      AsyncResource.bind(() => {
        console.log(`${request.method} ${request.originalUrl} ${response.statusCode} — ${this.describe(this.routing.stats())}`);
      }),
    );
    next();
  }

  /** `replica 127.0.0.1:40013 ×1, primary 127.0.0.1:40011 ×1`; sets other than `default` are named. */
  private describe(stats: RoutingStats): string {
    const parts: string[] = [];
    for (const [set, counts] of Object.entries(stats.sets)) {
      const prefix = set === 'default' ? '' : `${set} `;
      for (const [server, count] of Object.entries(counts.servers)) {
        parts.push(`${prefix}${this.primaries.includes(server) ? 'primary' : 'replica'} ${server} ×${count}`);
      }
      // A retry: a replica was unreachable, cancelled the read in a recovery conflict, or refused it as read-only.
      if (counts.retries > 0) parts.push(`${prefix}retried elsewhere ×${counts.retries}`);
      // A fallback: a read meant for a replica went to the primary, no replica being able to serve it.
      if (counts.fallbacks > 0) parts.push(`${prefix}fell back to the primary ×${counts.fallbacks}`);
    }
    return parts.length > 0 ? parts.join(', ') : 'no queries';
  }
}
