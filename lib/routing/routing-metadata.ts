import type { ExecutionContext } from '@nestjs/common';
import type { Reflector } from '@nestjs/core';
import { PIN_METADATA, USE_REPLICA_METADATA, USE_REPLICA_OPTIONS_METADATA } from '../pin-db.constants.js';
import type { ContextState } from './context-state.js';
import type { ReplicaScopeOptions } from './replica-scope-options.js';

/** What a handler's (or its controller's) @Pin / @UseReplica say, read once. */
interface RoutingMetadata {
  pin?: string[];
  useReplica?: string[];
  useReplicaOptions?: ReplicaScopeOptions;
}

/** A handler, or its class (Nest's own type for both). */
type Handler = ReturnType<ExecutionContext['getHandler']>;

/** Neither decorator: most handlers. */
const NONE: RoutingMetadata = {};

/**
 * What was read for a handler, by class: a method a base controller defines serves each subclass,
 * whose own decorators apply when the method has none (`next`: the same handler in another class;
 * almost always none).
 */
interface Cached {
  controller: Handler;
  metadata: RoutingMetadata;
  next?: Cached;
}

/** Decorators are set when classes are defined, so what Reflect says of a handler never changes; weak keys let classes that are dropped go. */
const cache = new WeakMap<Handler, Cached>();

/**
 * Applies the handler's @Pin / @UseReplica to the context, or, when the handler has neither, its
 * controller's: a handler's decorators replace its controller's, whichever kind they are.
 * @UseReplica's options (maxLagMs, preventWrites) go with its sets, for the whole context.
 * Runs for every request (the global guard) and message (the interceptor): the metadata is
 * read once per handler and class.
 */
export function applyRoutingMetadata(reflector: Reflector, execution: ExecutionContext, context: ContextState): void {
  const handler = execution.getHandler();
  const controller = execution.getClass();
  const first = cache.get(handler);
  let cached = first;
  while (cached && cached.controller !== controller) cached = cached.next;
  if (!cached) cache.set(handler, (cached = { controller, metadata: read(reflector, handler, controller), next: first }));
  const { metadata } = cached;
  if (metadata === NONE) return;
  if (metadata.pin) context.pin(metadata.pin);
  if (metadata.useReplica) context.useReplica(metadata.useReplica, metadata.useReplicaOptions);
}

function read(reflector: Reflector, handler: Handler, controller: Handler): RoutingMetadata {
  const decorated = reflector.get(PIN_METADATA, handler) || reflector.get(USE_REPLICA_METADATA, handler) ? handler : controller;
  const pin = reflector.get<string[] | undefined>(PIN_METADATA, decorated);
  const useReplica = reflector.get<string[] | undefined>(USE_REPLICA_METADATA, decorated);
  if (!pin && !useReplica) return NONE;
  return {
    pin,
    useReplica,
    useReplicaOptions: useReplica ? reflector.get<ReplicaScopeOptions | undefined>(USE_REPLICA_OPTIONS_METADATA, decorated) : undefined,
  };
}
