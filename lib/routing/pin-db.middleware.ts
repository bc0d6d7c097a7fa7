import type { IncomingMessage, ServerResponse } from 'node:http';
import { Inject, Injectable, NestMiddleware } from '@nestjs/common';
import onHeaders from 'on-headers';
import type { PinRequest } from '../options/pin-db-module-options.js';
import { requestTokens } from '../tokens/http-token-transport.js';
import { ContextState } from './context-state.js';
import { PinDbContext } from './pin-db.context.js';
import { PinDbRouter } from './pin-db.router.js';
import { writeServerTiming } from './server-timing.js';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE']);

/**
 * Opens each HTTP request's context. Middleware runs before guards, so a guard that loads the
 * user already reads where the request's pins say. A request that may write (any method but
 * GET, HEAD, OPTIONS, TRACE) is pinned from its start (a GraphQL POST of queries only drops that
 * pin at its first resolver: see lib/graphql). The tokens the request carries (cookie,
 * header) are kept for the first routing decision, which verifies them; a cookieless client's
 * stored token is loaded at the first decision that can name its key. The client's new token
 * (and Server-Timing) is written when the response's headers are, however the response is made.
 * Node's request and response, on Express and Fastify alike.
 */
@Injectable()
export class PinDbMiddleware implements NestMiddleware {
  constructor(@Inject(PinDbRouter) private readonly router: PinDbRouter) {}

  use(request: IncomingMessage & PinRequest, response: ServerResponse, next: () => void): void {
    // A WebSocket upgrade opens a connection that outlives it and carries many operations (Fastify routes
    // upgrades like requests: @fastify/websocket, Mercurius's subscriptions): no context, or they would all share it.
    if (isWebSocketUpgrade(request)) return next();
    // Applied twice (by the app too, ahead of its own middleware on NestJS 10): the first opened the context.
    if (opened.has(request)) return next();
    opened.add(request);
    const { options } = this.router;
    const context = new ContextState();
    context.http = true;
    if (!SAFE_METHODS.has(request.method ?? 'GET') && options.pinUnsafeMethods.length > 0) context.pinForMethod(options.pinUnsafeMethods);
    if (options.enabled) {
      const { tokens } = options;
      context.pendingTokens.push(...requestTokens(request, tokens));
      context.request = request;
      if (tokens.clientKey) context.storedToken = { key: () => this.router.clientKey(context.request!) };
    }
    if (options.enabled || options.serverTiming) {
      onHeaders(response, () => {
        if (options.serverTiming) writeServerTiming(response, context);
        if (options.enabled) this.router.responseTokens.writeHeaders(context, response);
      });
    }
    PinDbContext.run(next, context);
  }
}

/** Requests whose context is open: NestJS 10 runs the app's middleware before PinDb's, so an app may apply PinDbMiddleware itself, first. */
const opened = new WeakSet<IncomingMessage>();

function isWebSocketUpgrade(request: IncomingMessage): boolean {
  const upgrade = request.headers.upgrade;
  return typeof upgrade === 'string' && upgrade.toLowerCase() === 'websocket';
}
