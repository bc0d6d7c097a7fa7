import { ContextState } from '../routing/context-state.js';
import { graphqlContextOf, resolveInfoOf } from './resolver-args.js';

/** The event a subscription is resolving, and its context. */
interface ResolvingEvent {
  readonly payload: unknown;
  readonly context: ContextState;
}

/**
 * Gives each event of a GraphQL subscription a fresh context, shared by the resolvers of that event.
 *
 * graphql-js resolves an event by calling `execute()` on the payload (as the root value) after the
 * subscription's source iterator yields it, in the transport's loop (graphql-ws, Mercurius): that
 * loop runs in no context, and a context opened inside the iterator does not reach it, since an
 * awaiting function resumes in the async context it awaited in. Neither Nest nor the transports
 * have a per-event hook that every driver calls. What the resolvers of one event do share is the
 * subscription's GraphQL context (one per subscription, with either driver) and `info.rootValue`,
 * the payload. So the iterator that the subscription's resolver returns is wrapped (a Nest
 * interceptor may map what a resolver returns): each event it yields gets a new context, kept under
 * the GraphQL context until the next event; a resolver of the event that Nest runs through
 * interceptors (`fieldResolverEnhancers: ['interceptors']` for field resolvers) runs in it. The
 * subscription's own @Pin / @UseReplica apply to each event's context.
 * Subscriptions are resolved one event at a time, so the latest event is the one being resolved;
 * the payload check keeps a resolver out of a context that is not its event's.
 */
export class SubscriptionEvents {
  private readonly resolving = new WeakMap<object, ResolvingEvent>();

  /** Whether the resolver call starts a subscription: a root field of a subscription, resolved before any event. */
  startsSubscription(resolverArgs: readonly unknown[]): boolean {
    const info = resolveInfoOf(resolverArgs);
    return info !== undefined && info.operation.operation === 'subscription' && info.path.prev === undefined && graphqlContextOf(resolverArgs) !== undefined;
  }

  /** The context of the event the resolver call belongs to; undefined when it belongs to none. */
  contextOf(resolverArgs: readonly unknown[]): ContextState | undefined {
    const info = resolveInfoOf(resolverArgs);
    const graphqlContext = graphqlContextOf(resolverArgs);
    if (info?.operation.operation !== 'subscription' || graphqlContext === undefined) return undefined;
    const event = this.resolving.get(graphqlContext);
    return event !== undefined && event.payload === info.rootValue ? event.context : undefined;
  }

  /**
   * What a subscription's resolver returned: its events, each with a fresh context that `prepare`
   * readies (the subscription's @Pin / @UseReplica), if it is an async iterable; anything else as it is.
   */
  track(returned: unknown, resolverArgs: readonly unknown[], prepare: (context: ContextState) => void): unknown {
    const graphqlContext = graphqlContextOf(resolverArgs);
    if (graphqlContext === undefined || !isAsyncIterable(returned)) return returned;
    const source = returned[Symbol.asyncIterator]();
    const resolving = this.resolving;
    const events: AsyncIterableIterator<unknown> = {
      async next(...value: [] | [unknown]) {
        const result = await source.next(...value);
        if (result.done) resolving.delete(graphqlContext);
        else {
          const context = new ContextState();
          prepare(context);
          resolving.set(graphqlContext, { payload: result.value, context });
        }
        return result;
      },
      async return(value?: unknown) {
        resolving.delete(graphqlContext);
        return source.return ? source.return(value) : { done: true, value };
      },
      async throw(error?: unknown) {
        resolving.delete(graphqlContext);
        if (source.throw) return source.throw(error);
        throw error;
      },
      [Symbol.asyncIterator]() {
        return events;
      },
    };
    return events;
  }
}

function isAsyncIterable(value: unknown): value is AsyncIterable<unknown> {
  return typeof value === 'object' && value !== null && typeof (value as { [Symbol.asyncIterator]?: unknown })[Symbol.asyncIterator] === 'function';
}
