import type { IncomingMessage, ServerResponse } from 'node:http';
import { Inject, Injectable, NestMiddleware } from '@nestjs/common';
import onHeaders from 'on-headers';
import type { PinRequest } from '../options/pin-db-module-options.js';
import { requestTokens } from '../tokens/http-token-transport.js';
import { ContextState } from './context-state.js';
import { PinDbContext } from './pin-db.context.js';
import { PinDbRouter } from './pin-db.router.js';
import { holdFirstOutput } from './response-hold.js';
import { writeServerTiming } from './server-timing.js';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE']);

/**
 * Opens each HTTP request's context. Middleware runs before guards, so a guard that loads the
 * user already reads where the request's pins say. A request that may write (any method but
 * GET, HEAD, OPTIONS, TRACE) is pinned from its start (a GraphQL POST of queries only drops that
 * pin at its first resolver: see lib/graphql). The tokens the request carries (cookie,
 * header) are kept for the first routing decision, which verifies them; a cookieless client's
 * stored token is loaded at the first decision that can name its key (or as the response starts).
 * The client's new token (and Server-Timing) is written when the response's headers are, however
 * the response is made; what the token needs from a server (the primary's position for a set
 * pinned without a write, the pin store) is read as the response starts, its output held meanwhile
 * (response-hold.ts). So an HTTP request needs no interceptor: PinDbModule mounts none on its
 * routes. Node's request and response, on Express and Fastify alike.
 */
@Injectable()
export class PinDbMiddleware implements NestMiddleware {
  constructor(@Inject(PinDbRouter) private readonly router: PinDbRouter) {}

  use(request: IncomingMessage & PinRequest, response: ServerResponse, next: () => void): void {
    // A WebSocket upgrade opens a connection that outlives it and carries many operations (Fastify routes
    // upgrades like requests: @fastify/websocket, Mercurius's subscriptions): no context, or they would all share it.
    if (isWebSocketUpgrade(request)) return next();
    // Applied twice (by the app too, ahead of its own middleware on NestJS 10): the first opened the context, and runs this in it.
    if (PinDbContext.current()?.context.request === request) return next();
    const { options } = this.router;
    const context = new ContextState();
    context.http = true;
    context.request = request;
    if (!SAFE_METHODS.has(request.method ?? 'GET') && options.pinUnsafeMethods.length > 0) context.pinForMethod(options.pinUnsafeMethods);
    if (options.enabled) {
      const { tokens } = options;
      const brought = requestTokens(request, tokens);
      if (brought.length > 0) context.pendingTokens.push(...brought);
      if (tokens.clientKey) context.storedToken = { key: () => this.router.clientKey(context.request!) };
    }
    // A request that brings no token and pins nothing (most GETs) hands out no token: its response
    // is watched from its first pin on, if it comes (@Pin, routing.pin(), a write), before the response starts.
    if (options.serverTiming || (options.enabled && (context.hasMethodPin || context.pendingTokens.length > 0 || context.storedToken))) {
      this.watch(response, context);
    } else if (options.enabled) {
      context.onFirstPin = () => this.watch(response, context);
    }
    PinDbContext.run(next, context);
  }

  /** Hands out the token (and Server-Timing) as the response's headers are written, once what the token needs is read. */
  private watch(response: ServerResponse, context: ContextState): void {
    const { options } = this.router;
    onHeaders(response, () => {
      if (options.serverTiming) writeServerTiming(response, context);
      if (options.enabled) this.router.responseTokens.writeHeaders(context, response);
    });
    // After on-headers, so that its listener runs once the hold is over. Only positions (lsn mode) and the store are read for a token.
    if (options.enabled && (options.consistency === 'lsn' || options.tokens.store)) holdFirstOutput(response, () => this.prepareToken(context));
  }

  /** What the outgoing token needs, read before the headers: the client's stored token first (a handler that wrote without a read never loaded it). */
  private prepareToken(context: ContextState): Promise<void> | undefined {
    const { tokens, responseTokens } = this.router;
    const loading = tokens.loadStored(context);
    return loading ? loading.then(() => responseTokens.prepare(context)) : responseTokens.prepare(context);
  }
}

function isWebSocketUpgrade(request: IncomingMessage): boolean {
  const upgrade = request.headers.upgrade;
  return typeof upgrade === 'string' && upgrade.toLowerCase() === 'websocket';
}
