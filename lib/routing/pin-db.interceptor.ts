import { CallHandler, ExecutionContext, Inject, Injectable, NestInterceptor } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { from, map, Observable, switchMap } from 'rxjs';
import { enterHttpResolver } from '../graphql/method-pin.js';
import { SubscriptionEvents } from '../graphql/subscription-events.js';
import { ContextState } from './context-state.js';
import { PinDbContext } from './pin-db.context.js';
import { PinDbRouter } from './pin-db.router.js';
import { applyRoutingMetadata } from './routing-metadata.js';

/**
 * For executions that arrive without a context (microservice messages, WebSocket events, GraphQL
 * over WebSocket): opens one and applies @Pin / @UseReplica there; a GraphQL subscription's events
 * get one each (SubscriptionEvents).
 *
 * An HTTP request has its context from the middleware, its decorators from the guard, and its
 * token prepared as its response starts (response-hold.ts): PinDbModule mounts this interceptor
 * on no HTTP route (pin-db-core.module.ts), and where an app mounts it there anyway it passes the
 * request through. A GraphQL resolver of an HTTP request goes through as it is, once the request's
 * method pin is settled (the guard settles it first, where guards run).
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
    if (!context.http || context.methodPinVerdict === 'made' || execution.getType<string>() !== 'graphql' || !this.router.options.enabled) {
      return next.handle();
    }
    const settling = enterHttpResolver(context, execution.getArgs(), this.router.options.tokens.store !== undefined);
    return settling ? from(settling).pipe(switchMap(() => next.handle())) : next.handle();
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
