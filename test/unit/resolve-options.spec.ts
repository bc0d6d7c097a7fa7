import { MemoryPinStore, PinDbConfigError, PinDbModuleOptions } from '../../lib/index.js';
import { resolvePinDbOptions } from '../../lib/options/resolve-options.js';

const primary = { host: '127.0.0.1', port: 5432 };
const valid = (over: Record<string, unknown> = {}) => ({ sets: { default: { primary, replicas: [{ port: 5433 }] } }, ...over }) as PinDbModuleOptions;
const rejects = (options: unknown, message: RegExp) => {
  let error: unknown;
  try {
    resolvePinDbOptions(options as PinDbModuleOptions);
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(PinDbConfigError);
  expect((error as Error).message).toMatch(message);
};

describe('resolvePinDbOptions', () => {
  it('fills in the documented defaults', () => {
    const resolved = resolvePinDbOptions(valid());
    expect(resolved).toMatchObject({ mode: 'greedy', consistency: 'lsn', pinSeconds: 15, replicaSelection: 'round-robin', enabled: true, pinUnsafeMethods: ['default'] });
    expect(resolved.sets.get('default')!.replicas[0]).toEqual({ options: { host: '127.0.0.1', port: 5433 }, label: '127.0.0.1:5433' });
  });

  it('rejects no sets', () => {
    rejects({}, /at least one database set: sets: \{ default:/);
    rejects({ sets: {} }, /at least one database set/);
  });
  it('rejects a set with no primary', () => rejects({ sets: { analytics: { replicas: [] } } }, /sets\.analytics has no primary: give sets\.analytics\.primary as/));
  it('rejects a replica that is not an object', () =>
    rejects({ sets: { default: { primary, replicas: [{ port: 1 }, 'replica-2'] } } }, /sets\.default\.replicas\[1\] is not an object \(got "replica-2"\): give \{ host, port\? \}/));
  it('rejects replicas that are not a list', () => rejects({ sets: { default: { primary, replicas: { host: 'x' } } } }, /sets\.default\.replicas must be an array/));
  it.each([
    ['mode', 'lazy', /option mode must be 'greedy' or 'strict' \(got "lazy"\)/],
    ['consistency', 'eventual', /option consistency must be 'lsn' or 'time'/],
    ['replicaSelection', 'fastest', /option replicaSelection must be 'round-robin' or 'random' or 'least-busy'/],
    ['pinSeconds', 0, /pinSeconds must be a number of seconds > 0 \(got 0\)/],
    ['pinSeconds', -3, /pinSeconds must be a number of seconds > 0/],
    ['enabled', 'yes', /enabled must be true or false/],
    ['pinUnsafeMethods', ['analytics'], /pinUnsafeMethods names database set "analytics", which PinDbModule does not define: the sets are default/],
  ])('rejects %s = %p', (key, value, message) => rejects(valid({ [key]: value }), message));
  it('rejects unknown options and lists the known ones', () => rejects(valid({ pinSecs: 3 }), /Unknown PinDbModule option "pinSecs": the options are sets, typeorm, mode/));
  it('rejects unknown server fields with where they belong', () =>
    rejects({ sets: { default: { primary: { host: 'x', poolSize: 3 } } } }, /Unknown option sets\.default\.primary\.poolSize: .*other TypeORM options go in typeorm/));
  it('rejects a primary URL that is not a URL', () => rejects({ sets: { default: { primary: { url: 'not a url' } } } }, /sets\.default\.primary\.url is not a URL/));
  it('rejects TypeORM options that nestjs-pindb sets itself', () => {
    rejects(valid({ typeorm: { replication: {} } }), /typeorm\.replication is set by nestjs-pindb from the sets option/);
    rejects(valid({ typeorm: { type: 'mysql' } }), /routes PostgreSQL only/);
    rejects(valid({ typeorm: { host: 'x' } }), /typeorm\.host is set by nestjs-pindb/);
  });

  describe('health, statement timeouts, Server-Timing', () => {
    it('defaults: DESIGN.md health figures, no statement timeouts, no Server-Timing', () => {
      const resolved = resolvePinDbOptions(valid());
      expect(resolved.health).toEqual({ intervalMs: 1000, maxLagBytes: 16 * 1024 * 1024, maxLagSeconds: 30, cooldownMs: 5000, maxCooldownMs: 60_000, connectTimeoutMs: 2000 });
      expect(resolved.statementTimeoutMs).toEqual({});
      expect(resolved.serverTiming).toBe(false);
    });
    it('merges the health fields given over the defaults', () => {
      expect(resolvePinDbOptions(valid({ health: { intervalMs: 250, maxLagSeconds: 0 } })).health).toMatchObject({ intervalMs: 250, maxLagSeconds: 0, cooldownMs: 5000 });
    });
    it('rejects unknown health fields, naming the known ones', () => rejects(valid({ health: { interval: 5 } }), /Unknown option health\.interval: health has intervalMs, maxLagBytes/));
    it('rejects a health figure that is not a positive number, with its default', () => {
      rejects(valid({ health: { intervalMs: 0 } }), /health\.intervalMs must be a number > 0 \(got 0\); the default is 1000/);
      rejects(valid({ health: { maxLagBytes: -1 } }), /health\.maxLagBytes must be a number ≥ 0/);
      rejects(valid({ health: { connectTimeoutMs: '2s' } }), /health\.connectTimeoutMs must be a number > 0 \(got 2s\)/);
    });
    it('rejects a cooldown cap below the cooldown', () => rejects(valid({ health: { cooldownMs: 5000, maxCooldownMs: 1000 } }), /maxCooldownMs \(1000\) must be at least health\.cooldownMs \(5000\)/));
    it('rejects statement timeouts that are not whole milliseconds per role', () => {
      rejects(valid({ statementTimeoutMs: { replica: 1.5 } }), /statementTimeoutMs\.replica must be a whole number of milliseconds > 0/);
      rejects(valid({ statementTimeoutMs: { replicas: 100 } }), /Unknown option statementTimeoutMs\.replicas: give replica and\/or primary/);
      rejects(valid({ statementTimeoutMs: 100 }), /statementTimeoutMs must be an object such as \{ replica: 30000, primary: 10000 \}/);
    });
    it('rejects a serverTiming that is not a boolean', () => rejects(valid({ serverTiming: 'yes' }), /serverTiming must be true or false/));
  });

  describe('tokens', () => {
    const env = { ...process.env };
    afterEach(() => {
      process.env.NODE_ENV = env.NODE_ENV;
      if (env.PINDB_SECRET === undefined) delete process.env.PINDB_SECRET;
      else process.env.PINDB_SECRET = env.PINDB_SECRET;
    });

    it('defaults: cookie pindb (HttpOnly is always on), SameSite lax, header x-pindb-token, no store', () => {
      delete process.env.PINDB_SECRET;
      const { tokens } = resolvePinDbOptions(valid({ cookie: { secret: 's3cret' } }));
      expect(tokens).toMatchObject({ secrets: ['s3cret'], secretGenerated: false, cookie: { name: 'pindb', sameSite: 'lax', path: '/' }, header: 'x-pindb-token' });
      expect(tokens.store).toBeUndefined();
    });

    it('takes the secret from PINDB_SECRET, and a list of secrets for rotation', () => {
      process.env.PINDB_SECRET = 'from the environment';
      expect(resolvePinDbOptions(valid()).tokens.secrets).toEqual(['from the environment']);
      expect(resolvePinDbOptions(valid({ cookie: { secret: ['new', 'old'] } })).tokens.secrets).toEqual(['new', 'old']);
    });

    it('without a secret: a random one in development, PinDbConfigError in production', () => {
      delete process.env.PINDB_SECRET;
      process.env.NODE_ENV = 'development';
      const { tokens } = resolvePinDbOptions(valid());
      expect(tokens.secretGenerated).toBe(true);
      expect(tokens.secrets[0].length).toBeGreaterThan(30);
      process.env.NODE_ENV = 'production';
      rejects(valid(), /needs a secret to sign read-your-writes tokens in production: set cookie: \{ secret \} or the PINDB_SECRET environment variable/);
    });

    it('a clientKey without a store gets a MemoryPinStore', () => {
      const { tokens } = resolvePinDbOptions(valid({ cookie: { secret: 's' }, clientKey: () => 'k' }));
      expect(tokens.store).toBeInstanceOf(MemoryPinStore);
    });

    it.each([
      ['cookie', 'yes', /cookie must be an object/],
      ['cookie', { secret: 's', maxAge: 3 }, /Unknown option cookie\.maxAge/],
      ['cookie', { secret: 's', name: 'bad name' }, /cookie\.name must be a cookie name/],
      ['cookie', { secret: 's', sameSite: 'sometimes' }, /cookie\.sameSite must be 'lax' or 'strict' or 'none'/],
      ['cookie', { secret: '' }, /cookie\.secret must be a non-empty string/],
      ['cookie', { secret: [] }, /cookie\.secret must be a non-empty string/],
      ['header', 'x pindb', /header must be a header name/],
      ['clientKey', 'user.id', /clientKey must be a function/],
      ['store', { get() {} }, /store must be a PinStore/],
      ['store', new MemoryPinStore(), /store needs clientKey/],
    ])('rejects %s = %p', (key, value, message) => rejects(valid({ cookie: { secret: 's' }, [key]: value }), message));
  });
});
