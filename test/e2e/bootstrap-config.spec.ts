import { Controller, Get, Injectable, Module } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { getDataSourceToken } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { Pin, PinDbConfigError, PinDbModule, PinDbModuleOptions, PinDbOptionsFactory, RoutingService, UseReplica } from '../../lib/index.js';
import type { PgCluster } from '../../lib/testing/index.js';
import { Note } from '../support/entities.js';
import { readPort } from '../support/probe.js';
import { testCluster } from '../support/test-cluster.js';

/** Nothing listens here: an option check that let bootstrap reach the network would fail differently. */
const unreachable = { sets: { default: { primary: { host: '127.0.0.1', port: 1 }, replicas: [{ port: 2 }] } }, typeorm: { retryAttempts: 0 } };

async function bootstrapError(imports: any[], controllers: any[] = []): Promise<unknown> {
  try {
    const moduleRef = await Test.createTestingModule({ imports, controllers }).compile();
    await moduleRef.close();
  } catch (error) {
    return error;
  }
  return undefined;
}

@Controller('typo')
class TypoController {
  @Get()
  @Pin('analytcs')
  read() {
    return 1;
  }
}

@Controller('typo-class')
@UseReplica('reports')
class TypoClassController {}

describe('bootstrap: bad options fail before anything connects', () => {
  it.each([
    ['no sets', { sets: {} }, /at least one database set/],
    ['a set with no primary', { sets: { default: {} } }, /sets\.default has no primary/],
    ['a replica that is not an object', { sets: { default: { primary: { port: 1 }, replicas: [42] } } }, /sets\.default\.replicas\[0\] is not an object/],
    ['an unknown mode', { ...unreachable, mode: 'eager' }, /mode must be 'greedy' or 'strict'/],
    ['an unknown consistency', { ...unreachable, consistency: 'strong' }, /consistency must be 'lsn' or 'time'/],
    ['an unknown replicaSelection', { ...unreachable, replicaSelection: 'nearest' }, /replicaSelection must be/],
    ['a non-positive pinSeconds', { ...unreachable, pinSeconds: 0 }, /pinSeconds must be a number of seconds > 0/],
    // Before: bootstrap passed, and every write answered 500 after committing (the cookie library throws writing the token).
    ['a cookie.domain with a scheme', { ...unreachable, cookie: { domain: 'https://x' } }, /cookie\.domain must be a bare domain such as 'example\.com'/],
  ])('forRoot with %s throws PinDbConfigError where the module is declared', (_what, options, message) => {
    expect(() => PinDbModule.forRoot(options as unknown as PinDbModuleOptions)).toThrow(PinDbConfigError);
    expect(() => PinDbModule.forRoot(options as unknown as PinDbModuleOptions)).toThrow(message);
  });

  it.each([
    [
      '@Pin on a handler',
      TypoController,
      /@Pin on TypoController\.read names database set "analytcs", which PinDbModule does not define: the sets are default/,
    ],
    ['@UseReplica on a controller', TypoClassController, /@UseReplica on TypoClassController names database set "reports"/],
  ])('a set name in %s that does not exist fails the bootstrap', async (_what, controller, message) => {
    const error = await bootstrapError([PinDbModule.forRoot(unreachable as PinDbModuleOptions)], [controller]);
    expect(error).toBeInstanceOf(PinDbConfigError);
    expect((error as Error).message).toMatch(message);
  });

  it('forRootAsync: a factory returning bad options fails the bootstrap with PinDbConfigError', async () => {
    const error = await bootstrapError([PinDbModule.forRootAsync({ useFactory: () => ({ ...unreachable, mode: 'eager' }) as unknown as PinDbModuleOptions })]);
    expect(error).toBeInstanceOf(PinDbConfigError);
    expect((error as Error).message).toMatch(/mode must be/);
  });

  it('forRootAsync: a cookie.domain the cookie library rejects fails the bootstrap, not the first write', async () => {
    const error = await bootstrapError([PinDbModule.forRootAsync({ useFactory: () => ({ ...unreachable, cookie: { domain: 'https://app.example' } }) })]);
    expect(error).toBeInstanceOf(PinDbConfigError);
    expect((error as Error).message).toMatch(/cookie\.domain must be a bare domain .*\(got "https:\/\/app\.example"\)/);
  });

  it('forRootAsync: sets returned but not declared are named, with the fix', async () => {
    const options = { ...unreachable, sets: { ...unreachable.sets, analytics: unreachable.sets.default } };
    const error = await bootstrapError([PinDbModule.forRootAsync({ useFactory: () => options })]);
    expect(error).toBeInstanceOf(PinDbConfigError);
    expect((error as Error).message).toMatch(/declared the sets \[default\] but its factory returned \[default, analytics\].*sets: \['default', 'analytics'\]/);
  });

  it('forRootAsync needs a factory', () => {
    expect(() => PinDbModule.forRootAsync({})).toThrow(/needs one of useFactory, useClass or useExisting/);
  });
});

describe('forRootAsync on a real cluster', () => {
  let cluster: PgCluster;
  beforeAll(async () => {
    cluster = await testCluster({ replicas: 1 });
  });
  afterAll(() => cluster?.stop());

  const config = () => ({
    sets: { default: { primary: { url: cluster.primary.url }, replicas: [{ port: cluster.replicas[0].port }] } },
    typeorm: { entities: [Note], synchronize: true, retryAttempts: 0 },
  });

  @Injectable()
  class PinDbConfig implements PinDbOptionsFactory {
    createPinDbOptions() {
      return config();
    }
  }

  @Module({ providers: [PinDbConfig], exports: [PinDbConfig] })
  class ConfigModule {}

  it.each([
    [
      'useFactory with inject',
      () => PinDbModule.forRootAsync({ imports: [ConfigModule], inject: [PinDbConfig], useFactory: async (c: PinDbConfig) => c.createPinDbOptions() }),
    ],
    ['useClass', () => PinDbModule.forRootAsync({ useClass: PinDbConfig })],
    ['useExisting', () => PinDbModule.forRootAsync({ imports: [ConfigModule], useExisting: PinDbConfig })],
  ])('%s builds the routed default DataSource (a replica merged over a URL primary)', async (_how, module) => {
    const moduleRef = await Test.createTestingModule({ imports: [module()] }).compile();
    await moduleRef.init();
    try {
      const routing = moduleRef.get(RoutingService);
      const dataSource = moduleRef.get<DataSource>(getDataSourceToken());
      expect(await routing.run(() => readPort(dataSource))).toBe(cluster.replicas[0].port);
      expect(await routing.usePrimary(() => readPort(dataSource))).toBe(cluster.primary.port);
    } finally {
      await moduleRef.close();
    }
    // Closing the app destroyed the DataSource.
    expect(moduleRef.get<DataSource>(getDataSourceToken()).isInitialized).toBe(false);
  });
});
