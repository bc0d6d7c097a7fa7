import { CallHandler, ExecutionContext, Inject, Injectable, Logger, NestInterceptor } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { catchError, concatMap, from, Observable, switchMap } from 'rxjs';
import type { PinRequest } from '../options/pin-db-module-options.js';
import { writeResponseToken } from '../tokens/http-token-transport.js';
import { ContextState } from './context-state.js';
import { PinDbContext } from './pin-db.context.js';
import { PinDbRouter } from './pin-db.router.js';
import { applyRoutingMetadata } from './routing-metadata.js';
import { withServerTiming, writeServerTiming } from './server-timing.js';

/**
 * For HTTP: loads a cookieless client's token from the store (after the guards, which set the user
 * `clientKey` usually needs), and hands the client its new token before the response is written.
 * For executions that arrive without a context (microservice messages, GraphQL over a transport
 * without HTTP middleware, WebSocket events): opens one and applies @Pin / @UseReplica there.
 */
@Injectable()
export class PinDbInterceptor implements NestInterceptor {
  private readonly logger = new Logger('PinDb');

  constructor(
    private readonly reflector: Reflector,
    @Inject(PinDbRouter) private readonly router: PinDbRouter,
  ) {}

  intercept(execution: ExecutionContext, next: CallHandler): Observable<unknown> {
    const frame = PinDbContext.current();
    if (!frame) {
      const context = new ContextState();
      applyRoutingMetadata(this.reflector, execution, context);
      return new Observable((subscriber) => PinDbContext.run(() => next.handle().subscribe(subscriber), context));
    }
    if (execution.getType() !== 'http') return next.handle();
    const http = execution.switchToHttp();
    const { enabled, serverTiming } = this.router.options;
    if (!enabled) return serverTiming ? withServerTiming(next.handle(), http.getResponse(), frame.context) : next.handle();
    const request = http.getRequest();
    const key = this.clientKey(request);
    let handed = false;
    const handToken = async () => {
      if (handed) return;
      handed = true;
      // First: a token that fails to go out (primary down) must not take the counts with it.
      if (serverTiming) writeServerTiming(http.getResponse(), frame.context);
      await this.handToken(frame.context, http.getResponse(), key);
    };
    return from(this.loadStoredToken(frame.context, key)).pipe(
      switchMap(() => next.handle()),
      concatMap(async (value) => {
        await handToken();
        return value;
      }),
      catchError(async (error) => {
        await handToken().catch(() => undefined);
        throw error;
      }),
    );
  }

  private clientKey(request: PinRequest): string | undefined {
    const { clientKey } = this.router.options.tokens;
    if (!clientKey) return undefined;
    try {
      return clientKey(request) ?? undefined;
    } catch (error) {
      this.logger.warn(`clientKey threw, so this request has no stored token: ${(error as Error).message}`);
      return undefined;
    }
  }

  private async loadStoredToken(context: ContextState, key: string | undefined): Promise<void> {
    if (key === undefined) return;
    try {
      const token = await this.router.options.tokens.store!.get(key);
      if (token) context.pendingTokens.push(token);
    } catch (error) {
      // The client may have written moments ago: without its token, only the primary is safe. Not
      // a pin: a request that only reads hands out no token (and asks the failing store nothing more).
      this.logger.warn(`The pin store failed, so this request reads from the primaries: ${(error as Error).message}`);
      context.readFromPrimary([]);
    }
  }

  private async handToken(context: ContextState, response: Parameters<typeof writeResponseToken>[0], key: string | undefined): Promise<void> {
    const { tokens } = this.router;
    const before = tokens.accept(context);
    const after = await tokens.outgoing(context);
    if (tokens.same(before, after)) return;
    const signed = after.size > 0 ? tokens.sign(after) : undefined;
    const maxAgeSeconds = Math.max(0, ...[...after.values()].map((entry) => Math.ceil((entry.expiresAt - Date.now()) / 1000)));
    writeResponseToken(response, this.router.options.tokens, signed, maxAgeSeconds);
    if (key === undefined) return;
    const { store } = this.router.options.tokens;
    try {
      if (signed) await store!.set(key, signed, maxAgeSeconds);
      else await store!.delete(key);
    } catch (error) {
      this.logger.warn(`The pin store failed to keep a token: ${(error as Error).message}`);
    }
  }
}
