import { CallHandler, ExecutionContext, Inject, Injectable, NestInterceptor } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { catchError, from, map, mergeMap, Observable, of, switchMap } from 'rxjs';
import { settleMethodPin } from '../graphql/method-pin.js';
import { graphqlContextOf, requestOf } from '../graphql/resolver-args.js';
import { SubscriptionEvents } from '../graphql/subscription-events.js';
import { ContextState } from './context-state.js';
import { PinDbContext } from './pin-db.context.js';
import { PinDbRouter } from './pin-db.router.js';
import { applyRoutingMetadata } from './routing-metadata.js';

/**
 * For HTTP, and GraphQL resolvers of an HTTP request: loads a cookieless client's stored token if
 * no read has yet (after the guards, which set the user `clientKey` usually needs), and once the
 * handler's (each resolver's) answer is ready, reads what the client's new token needs before the
 * response's headers carry it (see ResponseTokens).
 * For executions that arrive without a context (microservice messages, WebSocket events, GraphQL
 * over WebSocket): opens one and applies @Pin / @UseReplica there; a GraphQL subscription's events
 * get one each (SubscriptionEvents).
 */
@Injectable()
export class PinDbInterceptor implements NestInterceptor {
  private readonly subscriptionEvents = new SubscriptionEvents();

  constructor(
    private readonly reflector: Reflector,
    @Inject(PinDbRouter) private readonly router: PinDbRouter,
  ) {}

  intercept(execution: ExecutionContext, next: CallHandler): Observable<unknown> {
    const frame = PinDbContext.current();
    if (!frame) return this.inOwnContext(execution, next);
    const { context } = frame;
    const type = execution.getType<string>();
    if (!this.router.options.enabled) return next.handle();
    if (type === 'graphql') {
      if (!context.http) return next.handle();
      const args = execution.getArgs();
      // The framework's request, where guards set the user (on Fastify, not Node's).
      const request = requestOf(graphqlContextOf(args));
      if (request) context.request = request;
      const settling = settleMethodPin(context, args);
      return settling ? from(settling).pipe(switchMap(() => this.handedOut(context, next))) : this.handedOut(context, next);
    }
    if (type !== 'http') return next.handle();
    // The framework's request from here on: guards may have set the user on it (Fastify's is not Node's).
    context.request = execution.switchToHttp().getRequest();
    return this.handedOut(context, next);
  }

  /** The handler, after the client's stored token is loaded, its answer held back until the outgoing token is ready. */
  private handedOut(context: ContextState, next: CallHandler): Observable<unknown> {
    const { responseTokens } = this.router;
    const prepared = <T>(value: T): Observable<T> => {
      const preparing = responseTokens.prepare(context);
      return preparing ? from(preparing.then(() => value)) : of(value);
    };
    const handled = next.handle().pipe(
      mergeMap(prepared),
      catchError((error) => prepared(undefined).pipe(mergeMap(() => Promise.reject(error)))),
    );
    const loading = this.router.tokens.loadStored(context);
    return loading ? from(loading).pipe(switchMap(() => handled)) : handled;
  }

  private inOwnContext(execution: ExecutionContext, next: CallHandler): Observable<unknown> {
    const graphql = execution.getType<string>() === 'graphql';
    const args = execution.getArgs();
    const context = (graphql && this.subscriptionEvents.contextOf(args)) || new ContextState();
    applyRoutingMetadata(this.reflector, execution, context);
    const handle =
      graphql && this.subscriptionEvents.startsSubscription(args)
        ? () =>
            next
              .handle()
              .pipe(map((returned) => this.subscriptionEvents.track(returned, args, (event) => applyRoutingMetadata(this.reflector, execution, event))))
        : () => next.handle();
    return new Observable((subscriber) => PinDbContext.run(() => handle().subscribe(subscriber), context));
  }
}
