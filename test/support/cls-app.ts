import type { IncomingMessage } from 'node:http';
import { randomUUID } from 'node:crypto';
import { DynamicModule, INestApplication, ModuleMetadata } from '@nestjs/common';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import { getDataSourceToken, TypeOrmModule } from '@nestjs/typeorm';
import { ClsPluginTransactional } from '@nestjs-cls/transactional';
import { TransactionalAdapterTypeOrm } from '@nestjs-cls/transactional-adapter-typeorm';
import { ClsModule } from 'nestjs-cls';
import { PinDbModule, PinDbModuleOptions } from '../../lib/index.js';
import type { PgConnectionOptions } from '../../lib/testing/index.js';
import { Note } from './entities.js';
import type { Platform } from './test-app.js';

/** The nestjs-cls value the cls middleware's `setup` copies from each request's `x-request-id` header. */
export const REQUEST_ID = 'requestId';

/**
 * ClsModule as the recipe (docs/nestjs-cls.md) sets it up: global, its middleware mounted for
 * every route, and the transactional plugin over the `default` set's DataSource, plus one named
 * plugin per other set in `sets`. No `imports`: @nestjs/typeorm provides PinDb's DataSources from
 * a global module.
 */
export function clsModule(sets: string[] = []): DynamicModule {
  return ClsModule.forRoot({
    global: true,
    middleware: {
      mount: true,
      generateId: true,
      idGenerator: (req: IncomingMessage) => String(req.headers['x-request-id'] ?? randomUUID()),
      setup: (cls, req: IncomingMessage) => cls.set(REQUEST_ID, req.headers['x-request-id']),
    },
    plugins: [
      new ClsPluginTransactional({
        adapter: new TransactionalAdapterTypeOrm({ dataSourceToken: getDataSourceToken() }),
      }),
      ...sets.map(
        (set) =>
          new ClsPluginTransactional({
            connectionName: set,
            adapter: new TransactionalAdapterTypeOrm({ dataSourceToken: getDataSourceToken(set) }),
          }),
      ),
    ],
  });
}

/** The servers of the `default` set, as the spec's cluster gives them (plain data: they cross to the app's process). */
export interface ClsAppServers {
  primary: PgConnectionOptions;
  replicas: PgConnectionOptions[];
}

export interface ClsAppOptions extends Pick<ModuleMetadata, 'controllers' | 'providers' | 'imports'> {
  platform: Platform;
  servers: ClsAppServers;
  /** Over `{ sets: { default: servers } }` with the Note entity. */
  pindb?: Partial<PinDbModuleOptions>;
  /** Sets other than `default` that get a transactional plugin of their own, named after the set. */
  clsSets?: string[];
  /** Import ClsModule before PinDbModule (its middleware then runs first) instead of after it. */
  clsFirst?: boolean;
}

/** A real Nest app on a real HTTP port, with PinDbModule and ClsModule imported as a user would. */
export async function createClsApp({
  platform,
  servers,
  pindb = {},
  clsSets = [],
  controllers = [],
  providers = [],
  imports = [],
  clsFirst = false,
}: ClsAppOptions): Promise<{ app: INestApplication; url: string }> {
  const pinDb = PinDbModule.forRoot({
    sets: { default: { primary: servers.primary, replicas: servers.replicas } },
    typeorm: { entities: [Note], synchronize: true, retryAttempts: 0 },
    ...pindb,
  } as PinDbModuleOptions);
  const modules = clsFirst ? [clsModule(clsSets), pinDb] : [pinDb, clsModule(clsSets)];
  const moduleRef = await Test.createTestingModule({ imports: [...modules, TypeOrmModule.forFeature([Note]), ...imports], controllers, providers }).compile();
  const app = platform === 'fastify' ? moduleRef.createNestApplication(new FastifyAdapter()) : moduleRef.createNestApplication({ logger: ['error'] });
  if (platform === 'fastify') app.useLogger(['error']);
  await app.listen(0, '127.0.0.1');
  return { app, url: (await app.getUrl()).replace('[::1]', '127.0.0.1') };
}
