import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { PinDbContext } from './pin-db.context.js';
import { applyRoutingMetadata } from './routing-metadata.js';

/**
 * Applies @Pin / @UseReplica as the first global guard, so that the guards after it (a guard that
 * loads the user) and everything else of the request honour them. It never refuses a request.
 */
@Injectable()
export class PinDbGuard implements CanActivate {
  constructor(private readonly reflector: Reflector) {}

  canActivate(execution: ExecutionContext): boolean {
    const frame = PinDbContext.current();
    if (frame) applyRoutingMetadata(this.reflector, execution, frame.context);
    return true;
  }
}
