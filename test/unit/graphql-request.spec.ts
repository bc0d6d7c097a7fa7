import { OperationKindOf, requestMayWrite } from '../../lib/graphql/graphql-request.js';
import { loadOperationKinds } from '../../lib/graphql/method-pin.js';
import { requestOf } from '../../lib/graphql/resolver-args.js';

/** As the core reads a batch: graphql's parser, loaded when first needed. */
let kindOf: OperationKindOf;
beforeAll(async () => {
  kindOf = await loadOperationKinds();
});

const QUERY = { query: '{ probe { port } }' };
const NAMED_QUERY = { query: 'query Notes { notes { id } }', operationName: 'Notes' };
const MUTATION = { query: 'mutation { addNote(text: "x") { id } }' };
const TWO_OPERATIONS = 'query Read { notes { id } } mutation Write { addNote(text: "x") { id } }';

describe('requestMayWrite: does an HTTP GraphQL request keep the pin of its method (a POST)?', () => {
  it.each<{ name: string; body: unknown; current: string | undefined; mayWrite: boolean }>([
    // one operation: the one being resolved decides
    { name: 'a query', body: QUERY, current: 'query', mayWrite: false },
    { name: 'a mutation', body: MUTATION, current: 'mutation', mayWrite: true },
    { name: 'a subscription sent over HTTP', body: { query: 'subscription { noteEvents { id } }' }, current: 'subscription', mayWrite: true },
    { name: 'the query of a document that also holds a mutation', body: { query: TWO_OPERATIONS, operationName: 'Read' }, current: 'query', mayWrite: false },
    { name: 'a query sent as application/graphql (the body is its text)', body: '{ probe { port } }', current: 'query', mayWrite: false },
    {
      name: 'a persisted query sent as its hash: the operation resolved says',
      body: { extensions: { persistedQuery: { version: 1, sha256Hash: 'ab' } } },
      current: 'query',
      mayWrite: false,
    },
    { name: 'no operation known', body: QUERY, current: undefined, mayWrite: true },
    { name: 'a body the server did not read: a batch cannot be told apart', body: undefined, current: 'query', mayWrite: true },
    { name: 'a null body', body: null, current: 'query', mayWrite: true },
    // batches: any operation that may write keeps the pin
    { name: 'a batch of queries', body: [QUERY, NAMED_QUERY], current: 'query', mayWrite: false },
    { name: 'a batch of one query', body: [QUERY], current: 'query', mayWrite: false },
    { name: 'a batch of a query and a mutation, resolving the query', body: [QUERY, MUTATION], current: 'query', mayWrite: true },
    { name: 'a batch of a mutation and a query, resolving the mutation', body: [MUTATION, QUERY], current: 'mutation', mayWrite: true },
    {
      name: 'a batch whose second document picks its query',
      body: [QUERY, { query: TWO_OPERATIONS, operationName: 'Read' }],
      current: 'query',
      mayWrite: false,
    },
    {
      name: 'a batch whose second document picks its mutation',
      body: [QUERY, { query: TWO_OPERATIONS, operationName: 'Write' }],
      current: 'query',
      mayWrite: true,
    },
    { name: 'a batch with a document of two operations and no name', body: [QUERY, { query: TWO_OPERATIONS }], current: 'query', mayWrite: true },
    { name: 'a batch with a name no operation has', body: [QUERY, { query: 'query A { a }', operationName: 'B' }], current: 'query', mayWrite: true },
    {
      name: 'a batch with a mutation in a comment and a string: a query still',
      body: [QUERY, { query: '# mutation { x }\nquery { note(text: "mutation { y }") { id } }' }],
      current: 'query',
      mayWrite: false,
    },
    {
      name: 'a batch with a shorthand query and a fragment',
      body: [QUERY, { query: '{ ...F } fragment F on Query { probe { port } }' }],
      current: 'query',
      mayWrite: false,
    },
    { name: 'a batch with a document that does not parse', body: [QUERY, { query: 'mutation {' }], current: 'query', mayWrite: true },
    {
      name: 'a batch with a persisted query sent as its hash',
      body: [QUERY, { extensions: { persistedQuery: { version: 1, sha256Hash: 'ab' } } }],
      current: 'query',
      mayWrite: true,
    },
    { name: 'a batch with an entry that is not an object', body: [QUERY, 'mutation { x }'], current: 'query', mayWrite: true },
    { name: 'a batch with a null entry', body: [QUERY, null], current: 'query', mayWrite: true },
  ])('$name: $mayWrite', ({ body, current, mayWrite }) => {
    expect(requestMayWrite(body, current, kindOf)).toBe(mayWrite);
  });

  it('a batch of queries keeps the pin when its documents cannot be read (no parser given)', () => {
    expect(requestMayWrite([QUERY, NAMED_QUERY], 'query')).toBe(true);
  });
});

describe('requestOf: the HTTP request in a GraphQL context', () => {
  const express = { headers: {}, body: QUERY };
  const fastify = { headers: {}, body: [QUERY], raw: {} };
  it.each<{ name: string; context: object | undefined; request: unknown }>([
    { name: "Apollo's context, and Mercurius's as Nest makes it: req", context: { req: express }, request: express },
    { name: "Mercurius's own: reply.request", context: { reply: { request: fastify } }, request: fastify },
    { name: 'both: req first', context: { req: express, reply: { request: fastify } }, request: express },
    {
      name: 'a req that is no HTTP request (a graphql-ws context): reply.request',
      context: { req: { connectionParams: {} }, reply: { request: fastify } },
      request: fastify,
    },
    { name: 'a graphql-ws context only: none', context: { req: { connectionParams: {}, extra: {} } }, request: undefined },
    { name: 'no context', context: undefined, request: undefined },
    { name: 'an empty context', context: {}, request: undefined },
  ])('$name', ({ context, request }) => {
    expect(requestOf(context)).toBe(request);
  });
});
