import type { ContextState } from '../routing/context-state.js';
import { OperationKindOf, requestMayWrite } from './graphql-request.js';
import { graphqlContextOf, requestOf, resolveInfoOf } from './resolver-args.js';

let kindOfLoading: Promise<OperationKindOf> | undefined;

/**
 * graphql's own parser, loaded at the first batch: the core must not need graphql, and an app that
 * sends a batch has it loaded already. A hand-written scanner would have to follow the whole
 * grammar (comments, strings, fragments, several operations) to be as right.
 */
export function loadOperationKinds(): Promise<OperationKindOf> {
  kindOfLoading ??= import('graphql').then(({ getOperationAST, parse }) => (document, operationName) => {
    try {
      return getOperationAST(parse(document), operationName)?.operation;
    } catch {
      return undefined;
    }
  });
  return kindOfLoading;
}

/**
 * At a resolver of a GraphQL request over HTTP (the guard's and the interceptor's shared step):
 * with a pin store, hands the context the framework's request from the GraphQL context (on
 * Fastify not Node's; guards set the user on it, which `clientKey` reads); then settles the pin of
 * the request's method.
 */
export function enterHttpResolver(context: ContextState, resolverArgs: readonly unknown[], keyed: boolean): Promise<void> | undefined {
  if (keyed && context.request !== undefined) context.request = requestOf(graphqlContextOf(resolverArgs)) ?? context.request;
  return settleMethodPin(context, resolverArgs);
}

/**
 * For a GraphQL request over HTTP: whether the pin of its method stays (it may write: a mutation
 * in it) or goes (queries only), decided once per request, at its first resolver. A promise while
 * a batch's documents are being read; the request's reads stay on the primary until then.
 */
export function settleMethodPin(context: ContextState, resolverArgs: readonly unknown[]): Promise<void> | undefined {
  const verdict = context.methodPinVerdict;
  if (verdict !== undefined) return verdict === 'made' ? undefined : verdict;
  if (!context.hasMethodPin) {
    context.methodPinVerdict = 'made';
    return undefined;
  }
  const current = resolveInfoOf(resolverArgs)?.operation.operation;
  const body: unknown = requestOf(graphqlContextOf(resolverArgs))?.body;
  if (current !== 'query' || !Array.isArray(body)) {
    decide(context, requestMayWrite(body, current));
    return undefined;
  }
  const deciding = loadOperationKinds().then(
    (kindOf) => decide(context, requestMayWrite(body, current, kindOf)),
    () => decide(context, true),
  );
  context.methodPinVerdict = deciding;
  return deciding;
}

function decide(context: ContextState, mayWrite: boolean): void {
  if (!mayWrite) context.dropMethodPin();
  context.methodPinVerdict = 'made';
}
