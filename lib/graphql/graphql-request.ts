/** The kind of the operation that `operationName` picks in `document`; undefined: it cannot be told (the text does not parse, or names no one operation). */
export type OperationKindOf = (document: string, operationName: string | undefined) => string | undefined;

/**
 * Whether an HTTP GraphQL request may write, and so keeps the pin of its method (a GraphQL request
 * is a POST whatever it does). `current` is the kind of the operation being resolved
 * (`info.operation.operation`): for a request of one operation, it decides. A body that is an
 * array is a batch: the request may write if any of its operations may, and `kindOf` reads their
 * kinds from their documents. An operation whose kind cannot be told may write: one sent as a
 * persisted query's hash (no document), one whose document does not parse, a body the server did
 * not read (so neither one operation nor a batch).
 */
export function requestMayWrite(body: unknown, current: string | undefined, kindOf?: OperationKindOf): boolean {
  if (current !== 'query') return true;
  if (body === undefined || body === null) return true;
  if (!Array.isArray(body)) return false;
  if (!kindOf) return true;
  return body.some((operation) => operationMayWrite(operation, kindOf));
}

/** One operation of a batch, as both Apollo Server and Mercurius take it: `{ query, operationName?, variables? }`. */
function operationMayWrite(operation: unknown, kindOf: OperationKindOf): boolean {
  if (typeof operation !== 'object' || operation === null) return true;
  const { query, operationName } = operation as { query?: unknown; operationName?: unknown };
  if (typeof query !== 'string') return true;
  return kindOf(query, typeof operationName === 'string' ? operationName : undefined) !== 'query';
}
