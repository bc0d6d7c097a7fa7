import { CanActivate, ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { enterHttpResolver } from '../graphql/method-pin.js';
import type { PinRequest } from '../options/pin-db-module-options.js';
import { PinDbContext } from './pin-db.context.js';
import { PinDbRouter } from './pin-db.router.js';
import { applyRoutingMetadata } from './routing-metadata.js';

/**
 * Applies @Pin / @UseReplica as the first global guard, so that the guards after it (a guard that
 * loads the user) and everything else of the request honour them. It never refuses a request.
 * With a pin store, it also hands the context the framework's request (on Fastify, not Node's),
 * where the guards after it set the user that `clientKey` usually reads.
 * Nest runs global guards for resolvers too (execution type 'graphql'), once per root resolver
 * (and per field resolver with `fieldResolverEnhancers: ['guards']`): the first one of a GraphQL
 * request over HTTP also decides whether the request keeps the pin of its method (a POST), before
 * any guard or resolver of it reads.
 * It runs for every request: synchronous, and the decorators are read once per handler.
 */
@Injectable()
export class PinDbGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    @Inject(PinDbRouter) private readonly router: PinDbRouter,
  ) {}

  canActivate(execution: ExecutionContext): boolean | Promise<boolean> {
    const frame = PinDbContext.current();
    if (!frame) return true;
    const { context } = frame;
    applyRoutingMetadata(this.reflector, execution, context);
    const type = execution.getType<string>();
    const keyed = context.request !== undefined && this.router.options.tokens.store !== undefined;
    if (type === 'http') {
      if (keyed) context.request = execution.getArgByIndex<PinRequest>(0);
      return true;
    }
    if (type !== 'graphql' || !context.http) return true;
    const settling = enterHttpResolver(context, execution.getArgs(), keyed);
    return settling ? settling.then(() => true) : true;
  }
}
