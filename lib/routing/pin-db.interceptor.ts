import { CallHandler, ExecutionContext, Inject, Injectable, NestInterceptor } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { catchError, from, mergeMap, Observable, of, switchMap } from 'rxjs';
import { ContextState } from './context-state.js';
import { PinDbContext } from './pin-db.context.js';
import { PinDbRouter } from './pin-db.router.js';
import { applyRoutingMetadata } from './routing-metadata.js';

/**
 * For HTTP: loads a cookieless client's stored token if no read has yet (after the guards, which
 * set the user `clientKey` usually needs), and once the handler's answer is ready, reads what the
 * client's new token needs before the response's headers carry it (see ResponseTokens).
 * For executions that arrive without a context (microservice messages, GraphQL over a transport
 * without HTTP middleware, WebSocket events): opens one and applies @Pin / @UseReplica there.
 */
@Injectable()
export class PinDbInterceptor implements NestInterceptor {
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
    if (execution.getType() !== 'http' || !this.router.options.enabled) return next.handle();
    const { context } = frame;
    // The framework's request from here on: guards may have set the user on it (Fastify's is not Node's).
    context.request = execution.switchToHttp().getRequest();
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
}
