import { AsyncLocalStorage } from 'node:async_hooks';
import { ContextState, RoutingFrame, ScopeOverride } from './context-state.js';

/**
 * The one AsyncLocalStorage of nestjs-pindb. A singleton reading it can serve every request at
 * once, and TypeORM's own code paths (which know nothing of Nest's DI) see the same state.
 */
const storage = new AsyncLocalStorage<RoutingFrame>();

/** Static access to the current pinning context, for code outside Nest's DI (decorators, TypeORM hooks). */
export class PinDbContext {
  static current(): RoutingFrame | undefined {
    return storage.getStore();
  }

  /** Runs fn in a fresh context; the context ends when fn settles. */
  static run<T>(fn: () => T, context = new ContextState()): T {
    return storage.run({ context }, fn);
  }

  /** Runs fn in a fresh context whose reads see the writes `token` stands for (one from routing.token()). */
  static runWithToken<T>(token: string | undefined, fn: () => T): T {
    const context = new ContextState();
    if (token) context.pendingTokens.push(token);
    return storage.run({ context }, fn);
  }

  /** Runs fn in a scope over the current context (a fresh one if there is none); the outer scope is back when fn settles. */
  static scope<T>(override: ScopeOverride, fn: () => T): T {
    const parent = storage.getStore();
    return storage.run({ context: parent?.context ?? new ContextState(), override, parent }, fn);
  }
}
