import type { ExecutionContext, Type } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { Pin, UseReplica } from '../../lib/index.js';
import { ContextState } from '../../lib/routing/context-state.js';
import { applyRoutingMetadata } from '../../lib/routing/routing-metadata.js';

/** What Nest hands an enhancer, as far as the decorators are read from it: the handler and its class. */
function execution(controller: Type, handler: () => unknown): ExecutionContext {
  const host: Pick<ExecutionContext, 'getHandler' | 'getClass'> = { getHandler: () => handler, getClass: () => controller };
  return host as ExecutionContext;
}

/** A base controller's method serves each subclass: the subclass's decorators apply when the method has none. */
class BaseController {
  list() {
    return [];
  }

  @UseReplica({ maxLagMs: 500 })
  report() {
    return [];
  }
}

@Pin()
class PinnedController extends BaseController {}

class PlainController extends BaseController {}

@UseReplica('analytics')
class AnalyticsController extends BaseController {}

describe('applyRoutingMetadata: the decorators of a handler, else of its class, read once', () => {
  const reflector = new Reflector();
  const apply = (controller: Type, handler: () => unknown) => {
    const context = new ContextState();
    applyRoutingMetadata(reflector, execution(controller, handler), context);
    return context;
  };

  it.each([1, 2, 3])('the same method in three classes, call %i (the answers are cached): each class decides for itself', () => {
    const handler = BaseController.prototype.list;
    expect(apply(PinnedController, handler).isPinned('default')).toBe(true);
    expect(apply(PlainController, handler).isPinned('default')).toBe(false);
    const analytics = apply(AnalyticsController, handler);
    expect(analytics.isPinned('default')).toBe(false);
    expect(analytics.readsForcedToReplica('analytics')).toBe(true);
    expect(analytics.readsForcedToReplica('default')).toBe(false);
  });

  it.each([1, 2])("a handler's own decorator replaces its class's, call %i, with its options", () => {
    const context = apply(PinnedController, BaseController.prototype.report);
    expect(context.isPinned('default')).toBe(false);
    expect(context.forcedReplicaOptions('default')).toEqual({ maxLagMs: 500, preventWrites: undefined });
  });
});
