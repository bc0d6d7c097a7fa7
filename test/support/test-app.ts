import { INestApplication, INestApplicationContext, ModuleMetadata, Type } from '@nestjs/common';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { Test, TestingModule } from '@nestjs/testing';
import { TypeOrmModule } from '@nestjs/typeorm';
import { PinDbModule, PinDbModuleOptions } from '../../lib/index.js';
import type { PgCluster, PgClusterOptions } from '../../lib/testing/index.js';
import { Note } from './entities.js';
import { testCluster } from './test-cluster.js';

export type Platform = 'express' | 'fastify';
export const PLATFORMS: Platform[] = ['express', 'fastify'];

export interface TestApp {
  app: INestApplication;
  url: string;
  get(path: string, init?: RequestInit): Promise<{ status: number; body: any }>;
  post(path: string, body?: unknown): Promise<{ status: number; body: any }>;
  close(): Promise<void>;
}

export interface TestAppOptions extends Pick<ModuleMetadata, 'controllers' | 'providers' | 'imports'> {
  platform: Platform;
  cluster: PgCluster;
  /** Over `{ sets: { default: cluster } }` with the Note entity. */
  pindb?: Partial<PinDbModuleOptions>;
  entities?: Type[];
}

/** The testing module of an app over the cluster, with PinDbModule as a user would import it. */
export function compileTestModule({
  cluster,
  pindb = {},
  controllers = [],
  providers = [],
  imports = [],
  entities = [Note],
}: Omit<TestAppOptions, 'platform'>): Promise<TestingModule> {
  return Test.createTestingModule({
    imports: [
      PinDbModule.forRoot({
        sets: { default: { primary: cluster.primary, replicas: cluster.replicas } },
        typeorm: { entities, synchronize: true, retryAttempts: 0 },
        ...pindb,
      } as PinDbModuleOptions),
      TypeOrmModule.forFeature(entities),
      ...imports,
    ],
    controllers,
    providers,
  }).compile();
}

/** An app context without HTTP (for jobs, scripts and RoutingService itself), initialised. */
export async function createTestContext(options: Omit<TestAppOptions, 'platform'>): Promise<INestApplicationContext> {
  const moduleRef = await compileTestModule(options);
  moduleRef.useLogger(['error']);
  return moduleRef.init();
}

/** A real Nest app on a real HTTP port. */
export async function createTestApp({ platform, ...options }: TestAppOptions): Promise<TestApp> {
  const moduleRef = await compileTestModule(options);
  const app = platform === 'fastify' ? moduleRef.createNestApplication(new FastifyAdapter()) : moduleRef.createNestApplication({ logger: ['error'] });
  if (platform === 'fastify') app.useLogger(['error']);
  await app.listen(0, '127.0.0.1');
  const url = (await app.getUrl()).replace('[::1]', '127.0.0.1');
  const call = async (path: string, init?: RequestInit) => {
    const response = await fetch(url + path, init);
    const text = await response.text();
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      // not JSON
    }
    return { status: response.status, body };
  };
  return {
    app,
    url,
    get: (path, init) => call(path, init),
    post: (path, body) => call(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body ?? {}) }),
    close: () => app.close(),
  };
}

export interface ClusterApp {
  cluster: PgCluster;
  app: TestApp;
  replicaPorts: number[];
}

/**
 * A 1 + 2 cluster and an app on it, started before the spec's tests and stopped after them. Its
 * fields are set once beforeAll has run. `options` may prepare the cluster before the app starts.
 */
export function clusterApp(
  platform: Platform,
  options: (cluster: PgCluster) => Omit<TestAppOptions, 'platform' | 'cluster'> | Promise<Omit<TestAppOptions, 'platform' | 'cluster'>>,
  clusterOptions: PgClusterOptions = {},
): ClusterApp {
  const env = {} as ClusterApp;
  beforeAll(async () => {
    env.cluster = await testCluster({ replicas: 2, ...clusterOptions });
    env.replicaPorts = env.cluster.replicas.map((replica) => replica.port);
    env.app = await createTestApp({ platform, cluster: env.cluster, ...(await options(env.cluster)) });
  });
  afterAll(async () => {
    await env.app?.close();
    await env.cluster?.stop();
  });
  return env;
}
