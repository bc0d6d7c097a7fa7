import type { INestApplication, Provider } from '@nestjs/common';
import { ApolloDriver, ApolloDriverConfig } from '@nestjs/apollo';
import { GraphQLModule } from '@nestjs/graphql';
import { MercuriusDriver, MercuriusDriverConfig } from '@nestjs/mercurius';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import type { PinDbModuleOptions } from '../../lib/index.js';
import type { PgCluster } from '../../lib/testing/index.js';
import { GRAPHQL_PROVIDERS, TYPE_DEFS } from './graphql-resolvers.js';
import { compileTestModule, type Platform } from './test-app.js';
import { testCluster } from './test-cluster.js';

/** A GraphQL driver on its HTTP platform, with the schema written one way. */
export interface GraphQLStack {
  name: string;
  driver: 'apollo' | 'mercurius';
  platform: Platform;
  schema: 'code-first' | 'schema-first';
}

/** Both drivers, and both ways of writing the schema. */
export const GRAPHQL_STACKS: GraphQLStack[] = [
  { name: 'Apollo on Express, code-first', driver: 'apollo', platform: 'express', schema: 'code-first' },
  { name: 'Mercurius on Fastify, schema-first', driver: 'mercurius', platform: 'fastify', schema: 'schema-first' },
];

/** One operation as a client sends it over HTTP. */
export interface GraphQLOperation {
  query: string;
  variables?: Record<string, unknown>;
  operationName?: string;
}

/** An HTTP response to a GraphQL request: the result (an array for a batch) and what it said of the token. */
export interface GraphQLResponse {
  status: number;
  body: any;
  /** Every `pindb` Set-Cookie line. */
  pindbCookies: string[];
  /** The `pindb` cookie as `name=value`, to send back; undefined when the response sets none. */
  cookie?: string;
  /** The token header. */
  header: string | null;
}

export interface GraphQLApp {
  app: INestApplication;
  url: string;
  /** POSTs one operation, or a batch. */
  request(operations: GraphQLOperation | GraphQLOperation[], headers?: Record<string, string>): Promise<GraphQLResponse>;
  /** Subscribes over graphql-ws (the graphql-transport-ws protocol), on a connection of its own; `return()` ends the subscription. */
  subscribe(query: string): AsyncIterableIterator<any>;
  /** Ends every subscription and closes their connections. */
  unsubscribeAll(): Promise<void>;
  close(): Promise<void>;
}

export interface GraphQLAppOptions {
  stack: GraphQLStack;
  cluster: PgCluster;
  /** Over `{ sets: { default: cluster } }` with the Note entity. */
  pindb?: Partial<PinDbModuleOptions>;
  providers?: Provider[];
}

function graphqlModule(stack: GraphQLStack) {
  const schema = stack.schema === 'code-first' ? { autoSchemaFile: true as const } : { typeDefs: TYPE_DEFS };
  // Field resolvers through guards and interceptors: how a subscription event's resolvers get its context.
  const fieldResolverEnhancers: ('guards' | 'interceptors')[] = ['guards', 'interceptors'];
  if (stack.driver === 'apollo') {
    return GraphQLModule.forRoot<ApolloDriverConfig>({
      driver: ApolloDriver,
      ...schema,
      allowBatchedHttpRequests: true,
      subscriptions: { 'graphql-ws': true },
      fieldResolverEnhancers,
      graphiql: false,
    });
  }
  return GraphQLModule.forRoot<MercuriusDriverConfig>({
    driver: MercuriusDriver,
    ...schema,
    allowBatchedQueries: true,
    subscription: true,
    fieldResolverEnhancers,
    graphiql: false,
  });
}

/** A real Nest app with GraphQLModule and PinDbModule, on a real HTTP port. */
export async function createGraphQLApp({ stack, cluster, pindb = {}, providers = [] }: GraphQLAppOptions): Promise<GraphQLApp> {
  const moduleRef = await compileTestModule({ cluster, pindb, imports: [graphqlModule(stack)], providers: [...GRAPHQL_PROVIDERS, ...providers] });
  const app = stack.platform === 'fastify' ? moduleRef.createNestApplication(new FastifyAdapter()) : moduleRef.createNestApplication({ logger: ['error'] });
  app.useLogger(['error']);
  await app.listen(0, '127.0.0.1');
  const url = (await app.getUrl()).replace('[::1]', '127.0.0.1');
  const clients: Client[] = [];
  return {
    app,
    url,
    async request(operations, headers = {}) {
      const response = await fetch(`${url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify(operations),
      });
      const text = await response.text();
      let body: unknown = text;
      try {
        body = JSON.parse(text);
      } catch {
        // not JSON: the test shows the text
      }
      const pindbCookies = response.headers.getSetCookie().filter((line) => line.startsWith('pindb='));
      return { status: response.status, body, pindbCookies, cookie: pindbCookies[0]?.split(';')[0], header: response.headers.get('x-pindb-token') };
    },
    subscribe(query) {
      const client = createClient({ url: `${url.replace(/^http/, 'ws')}/graphql`, webSocketImpl: WebSocket, retryAttempts: 0 });
      clients.push(client);
      return client.iterate({ query });
    },
    async unsubscribeAll() {
      await Promise.all(clients.splice(0).map((client) => client.dispose()));
    },
    async close() {
      await Promise.all(clients.splice(0).map((client) => client.dispose()));
      await app.close();
    },
  };
}

/** The app of each stack is built on one cluster per spec file: a 1 + 2 cluster, started before the spec's tests. */
export function sharedCluster(): { cluster: PgCluster; replicaPorts: number[] } {
  const env = {} as { cluster: PgCluster; replicaPorts: number[] };
  beforeAll(async () => {
    env.cluster = await testCluster({ replicas: 2 });
    env.replicaPorts = env.cluster.replicas.map((replica) => replica.port);
  });
  afterAll(() => env.cluster?.stop());
  return env;
}

/** An app of `stack` on the shared cluster, built before the describe block's tests and closed after them. */
export function graphqlApp(stack: GraphQLStack, env: { cluster: PgCluster }, options: Omit<GraphQLAppOptions, 'stack' | 'cluster'> = {}): { app: GraphQLApp } {
  const holder = {} as { app: GraphQLApp };
  beforeAll(async () => {
    holder.app = await createGraphQLApp({ stack, cluster: env.cluster, ...options });
    await env.cluster.waitForReplay(); // the schema, made at startup
  });
  afterAll(() => holder.app?.close());
  return holder;
}
