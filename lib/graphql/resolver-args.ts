import type { PinRequest } from '../options/pin-db-module-options.js';

/**
 * What nestjs-pindb reads of a resolver's `info` (graphql-js's GraphQLResolveInfo), typed here so
 * that the core needs no graphql at load time.
 */
export interface ResolveInfoLike {
  /** The operation being executed: its `operation` is 'query', 'mutation' or 'subscription'. */
  readonly operation: { readonly operation: string };
  /** The field's path in the result: `prev` is undefined for a root field. */
  readonly path: { readonly prev?: unknown };
  /** The execution's root value: for a subscription event, the event's payload. */
  readonly rootValue: unknown;
}

/** Nest calls a resolver with graphql-js's (root, args, context, info). */
export function resolveInfoOf(args: readonly unknown[]): ResolveInfoLike | undefined {
  const info = args[3] as Partial<ResolveInfoLike> | undefined;
  return isObject(info) && isObject(info.operation) && typeof info.operation.operation === 'string' && isObject(info.path)
    ? (info as ResolveInfoLike)
    : undefined;
}

/** The GraphQL context of a resolver call: one object per operation, per subscription for a subscription (both Nest drivers make it so). */
export function graphqlContextOf(args: readonly unknown[]): object | undefined {
  const context = args[2];
  return isObject(context) ? context : undefined;
}

/**
 * The framework's request in a GraphQL context: `req`, which both Nest drivers set (Apollo's: the
 * Express or Fastify request; Mercurius's: the Fastify request), else Mercurius's own
 * `reply.request`. Undefined when neither looks like an HTTP request.
 */
export function requestOf(context: object | undefined): PinRequest | undefined {
  const { req, reply } = (context ?? {}) as { req?: unknown; reply?: { request?: unknown } };
  if (isRequest(req)) return req;
  const request = isObject(reply) ? reply.request : undefined;
  return isRequest(request) ? request : undefined;
}

function isRequest(value: unknown): value is PinRequest {
  return isObject(value) && isObject((value as { headers?: unknown }).headers);
}

function isObject(value: unknown): value is object {
  return typeof value === 'object' && value !== null;
}
