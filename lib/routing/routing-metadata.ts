import type { ExecutionContext } from '@nestjs/common';
import type { Reflector } from '@nestjs/core';
import { PIN_METADATA, USE_REPLICA_METADATA, USE_REPLICA_OPTIONS_METADATA } from '../pin-db.constants.js';
import type { ContextState } from './context-state.js';
import type { ReplicaScopeOptions } from './replica-scope-options.js';

/**
 * Applies the handler's @Pin / @UseReplica to the context, or, when the handler has neither, its
 * controller's: a handler's decorators replace its controller's, whichever kind they are.
 * @UseReplica's options (maxLagMs, preventWrites) go with its sets, for the whole context.
 */
export function applyRoutingMetadata(reflector: Reflector, execution: ExecutionContext, context: ContextState): void {
  const handler = execution.getHandler();
  const decorated = reflector.get(PIN_METADATA, handler) || reflector.get(USE_REPLICA_METADATA, handler) ? handler : execution.getClass();
  const pin = reflector.get<string[] | undefined>(PIN_METADATA, decorated);
  if (pin) context.pin(pin);
  const useReplica = reflector.get<string[] | undefined>(USE_REPLICA_METADATA, decorated);
  if (useReplica) context.useReplica(useReplica, reflector.get<ReplicaScopeOptions | undefined>(USE_REPLICA_OPTIONS_METADATA, decorated));
}
