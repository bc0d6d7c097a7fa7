import { CallHandler, ExecutionContext, Injectable, NestInterceptor } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { Observable } from 'rxjs';
import { ContextState } from './context-state.js';
import { PinDbContext } from './pin-db.context.js';
import { applyRoutingMetadata } from './routing-metadata.js';

/**
 * Opens a context for executions that arrive without one (microservice messages, GraphQL over a
 * transport without HTTP middleware, WebSocket events) and applies @Pin / @UseReplica there.
 * HTTP requests already have theirs from PinDbMiddleware.
 */
@Injectable()
export class PinDbInterceptor implements NestInterceptor {
  constructor(private readonly reflector: Reflector) {}

  intercept(execution: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (PinDbContext.current()) return next.handle();
    const context = new ContextState();
    applyRoutingMetadata(this.reflector, execution, context);
    return new Observable((subscriber) => PinDbContext.run(() => next.handle().subscribe(subscriber), context));
  }
}
