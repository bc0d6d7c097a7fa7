import type { ExecutionContext } from '@nestjs/common';
import type { Reflector } from '@nestjs/core';
import { PIN_METADATA, USE_REPLICA_METADATA } from '../pin-db.constants.js';
import type { ContextState } from './context-state.js';

/** Applies @Pin and @UseReplica of the handler, else of its controller, to the context. */
export function applyRoutingMetadata(reflector: Reflector, execution: ExecutionContext, context: ContextState): void {
  const targets = [execution.getHandler(), execution.getClass()];
  const pin = reflector.getAllAndOverride<string[] | undefined>(PIN_METADATA, targets);
  if (pin) context.pin(pin);
  const useReplica = reflector.getAllAndOverride<string[] | undefined>(USE_REPLICA_METADATA, targets);
  if (useReplica) context.useReplica(useReplica);
}
