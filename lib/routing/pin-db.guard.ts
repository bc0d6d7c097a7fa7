import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { settleMethodPin } from '../graphql/method-pin.js';
import { PinDbContext } from './pin-db.context.js';
import { applyRoutingMetadata } from './routing-metadata.js';

/**
 * Applies @Pin / @UseReplica as the first global guard, so that the guards after it (a guard that
 * loads the user) and everything else of the request honour them. It never refuses a request.
 * Nest runs global guards for resolvers too (execution type 'graphql'), once per root resolver
 * (and per field resolver with `fieldResolverEnhancers: ['guards']`): the first one of a GraphQL
 * request over HTTP also decides whether the request keeps the pin of its method (a POST), before
 * any guard or resolver of it reads.
 */
@Injectable()
export class PinDbGuard implements CanActivate {
  constructor(private readonly reflector: Reflector) {}

  canActivate(execution: ExecutionContext): boolean | Promise<boolean> {
    const frame = PinDbContext.current();
    if (!frame) return true;
    applyRoutingMetadata(this.reflector, execution, frame.context);
    if (execution.getType<string>() !== 'graphql') return true;
    const settling = settleMethodPin(frame.context, execution.getArgs());
    return settling ? settling.then(() => true) : true;
  }
}
