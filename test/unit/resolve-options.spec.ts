import { MemoryPinStore, PinDbModuleOptions } from '../../lib/index.js';
import { resolvePinDbOptions } from '../../lib/options/resolve-options.js';
import { rejects } from '../support/rejected-options.js';

const primary = { host: '127.0.0.1', port: 5432 };
const valid = (over: Record<string, unknown> = {}) => ({ sets: { default: { primary, replicas: [{ port: 5433 }] } }, ...over }) as PinDbModuleOptions;
describe('resolvePinDbOptions', () => {
  it('fills in the documented defaults', () => {
    const resolved = resolvePinDbOptions(valid());
    expect(resolved).toMatchObject({
      mode: 'greedy',
      consistency: 'lsn',
      pinSeconds: 15,
      replicaSelection: 'round-robin',
      enabled: true,
      pinUnsafeMethods: ['default'],
    });
    expect(resolved.sets.get('default')!.replicas[0]).toEqual({ options: { host: '127.0.0.1', port: 5433 }, label: '127.0.0.1:5433' });
  });

  it('rejects no sets', () => {
    rejects({}, /at least one database set: sets: \{ default:/);
    rejects({ sets: {} }, /at least one database set/);
  });
  it('rejects a set with no primary', () =>
    rejects({ sets: { analytics: { replicas: [] } } }, /sets\.analytics has no primary: give sets\.analytics\.primary as/));
  it('rejects a replica that is not an object', () =>
    rejects(
      { sets: { default: { primary, replicas: [{ port: 1 }, 'replica-2'] } } },
      /sets\.default\.replicas\[1\] is not an object \(got "replica-2"\): give \{ host, port\? \}/,
    ));
  it('rejects replicas that are not a list', () =>
    rejects({ sets: { default: { primary, replicas: { host: 'x' } } } }, /sets\.default\.replicas must be an array/));
  it.each([
    ['mode', 'lazy', /option mode must be 'greedy' or 'strict' \(got "lazy"\)/],
    ['consistency', 'eventual', /option consistency must be 'lsn' or 'time'/],
    ['replicaSelection', 'nearest', /option replicaSelection must be 'round-robin' or 'random' or 'least-busy' or 'fastest'/],
    ['pinSeconds', 0, /pinSeconds must be a number of seconds > 0 \(got 0\)/],
    ['pinSeconds', -3, /pinSeconds must be a number of seconds > 0/],
    ['enabled', 'yes', /enabled must be true or false/],
    ['pinUnsafeMethods', ['analytics'], /pinUnsafeMethods names database set "analytics", which PinDbModule does not define: the sets are default/],
  ])('rejects %s = %p', (key, value, message) => rejects(valid({ [key]: value }), message));
  it('rejects unknown options and lists the known ones', () =>
    rejects(valid({ pinSecs: 3 }), /Unknown PinDbModule option "pinSecs": the options are sets, typeorm, mode/));
  it('rejects unknown server fields with where they belong', () =>
    rejects(
      { sets: { default: { primary: { host: 'x', poolSize: 3 } } } },
      /Unknown option sets\.default\.primary\.poolSize: .*other TypeORM options go in typeorm/,
    ));
  it('rejects a primary URL that is not a URL', () =>
    rejects({ sets: { default: { primary: { url: 'not a url' } } } }, /sets\.default\.primary\.url is not a URL/));
  it('rejects TypeORM options that nestjs-pindb sets itself', () => {
    rejects(valid({ typeorm: { replication: {} } }), /typeorm\.replication is set by nestjs-pindb from the sets option/);
    rejects(valid({ typeorm: { type: 'mysql' } }), /routes PostgreSQL only/);
    rejects(valid({ typeorm: { host: 'x' } }), /typeorm\.host is set by nestjs-pindb/);
  });

  describe('servers', () => {
    const set = (server: Record<string, unknown>) => ({ sets: { default: { primary: { ...primary, ...server } } } });
    it.each([
      [{ port: 'abc' }, /sets\.default\.primary\.port must be a whole number from 1 to 65535 \(got "abc"\)/],
      [{ port: '5432' }, /primary\.port must be a whole number .*Number\(process\.env\.PGPORT\)/],
      [{ port: 0 }, /primary\.port must be a whole number from 1 to 65535 \(got number 0\)/],
      [{ port: 65536 }, /primary\.port must be a whole number/],
      [{ port: 54.32 }, /primary\.port must be a whole number/],
      [{ host: 5 }, /sets\.default\.primary\.host must be a string \(got number 5\), e\.g\. host: 'replica-1'/],
      [{ username: {} }, /primary\.username must be a string \(got object \{\}\)/],
      [{ database: ['shop'] }, /primary\.database must be a string \(got array \["shop"\]\)/],
      [{ applicationName: true }, /primary\.applicationName must be a string/],
      [{ url: 42 }, /primary\.url must be a string/],
      [{ password: 1234 }, /primary\.password must be a string, or a function returning one/],
      [{ ssl: 'require' }, /primary\.ssl must be true, false or TLS options/],
      [{ ssl: null }, /primary\.ssl must be true, false or TLS options/],
    ])('rejects a primary with %p', (server, message) => rejects(set(server), message));
    it('checks replicas the same way', () =>
      rejects({ sets: { default: { primary, replicas: [{ port: 5433 }, { port: '5434' }] } } }, /sets\.default\.replicas\[1\]\.port must be a whole number/));
    it('accepts a password function (pg calls it at each connect) and TLS options', () => {
      const password = async () => 'token';
      const resolved = resolvePinDbOptions({
        sets: { default: { primary: { ...primary, password, ssl: { rejectUnauthorized: false } }, replicas: [{ port: 5433, ssl: true }] } },
      });
      expect(resolved.sets.get('default')!.replicas[0].options).toMatchObject({ password, ssl: true, port: 5433 });
    });

    it.each([
      [
        'a replica equal to its primary',
        { primary, replicas: [{}] },
        /sets\.default\.replicas\[0\] \(127\.0\.0\.1:5432\) is the same host, port and database as sets\.default\.primary/,
      ],
      ["a replica naming the primary's host again", { primary, replicas: [{ host: '127.0.0.1' }] }, /replicas\[0\] .* as sets\.default\.primary/],
      [
        'the same replica twice',
        { primary, replicas: [{ port: 5433 }, { port: 5434 }, { port: 5433 }] },
        /sets\.default\.replicas\[2\] \(127\.0\.0\.1:5433\) is the same host, port and database as sets\.default\.replicas\[0\]/,
      ],
      [
        'a replica URL that is the primary',
        { primary: { url: 'postgres://app@DB.example:6432/shop' }, replicas: [{ url: 'postgres://other@db.example:6432/shop' }] },
        /replicas\[0\] \(db\.example:6432\) is the same .* as sets\.default\.primary/,
      ],
      [
        "a replica URL over the primary's fields, to the primary",
        { primary: { host: 'p', port: 5432 }, replicas: [{ url: 'postgres://p:5432' }] },
        /replicas\[0\] \(p:5432\) is the same/,
      ],
    ])('rejects %s', (_what, set, message) => rejects({ sets: { default: set } }, message));
    it.each([
      ['another database on the same server', { primary: { ...primary, database: 'a' }, replicas: [{ database: 'b' }] }],
      ["a replica URL to another host, over the primary's fields", { primary, replicas: [{ url: 'postgres://replica:5432' }] }],
    ])('accepts %s', (_what, set) =>
      expect(resolvePinDbOptions({ sets: { default: set } } as PinDbModuleOptions).sets.get('default')!.replicas).toHaveLength(1),
    );
    it('labels a replica URL by the URL, not by the primary fields merged under it', () => {
      expect(
        resolvePinDbOptions({ sets: { default: { primary, replicas: [{ url: 'postgres://replica:6543/db' }] } } }).sets.get('default')!.replicas[0].label,
      ).toBe('replica:6543');
    });
    it('lets two sets share a server', () => {
      expect([...resolvePinDbOptions({ sets: { default: { primary }, solo: { primary } } }).sets.keys()]).toEqual(['default', 'solo']);
    });
  });

  describe('set names', () => {
    it.each(['constructor', 'toString', 'hasOwnProperty', 'valueOf', '__defineGetter__'])('rejects %p, a property of every object', (name) =>
      rejects({ sets: { [name]: { primary } } }, new RegExp(`set name "${name}" is a name every JavaScript object has \\(Object\\.prototype\\.${name}\\)`)),
    );
    it('rejects a __proto__ key (as JSON.parse makes it)', () =>
      rejects({ sets: JSON.parse('{"__proto__": {"primary": {"port": 5432}}}') }, /set name "__proto__" is a name every JavaScript object has/));
    it('rejects { __proto__: ... } in an object literal, which sets the prototype instead of a key', () =>
      rejects({ sets: { __proto__: { primary } } }, /sets must be a plain object .*'__proto__' cannot be a set name/));
    it.each([
      ['', /set name "" is not allowed: a set name is 1 to 63 printable ASCII characters without spaces/],
      ['my set', /set name "my set" is not allowed/],
      ['tab\there', /set name "tab\\there" is not allowed/],
      ['caf\u00e9', /is not allowed/],
      ['x'.repeat(64), /is not allowed/],
    ])('rejects the set name %p', (name, message) => rejects({ sets: { [name]: { primary } } }, message));
    it('accepts punctuation, and sets with a null prototype', () => {
      const sets = Object.assign(Object.create(null) as Record<string, unknown>, { 'eu-west.1': { primary } });
      expect([...resolvePinDbOptions({ sets } as PinDbModuleOptions).sets.keys()]).toEqual(['eu-west.1']);
    });
  });

  describe('typeorm', () => {
    const perSet = (typeorm: unknown) => ({ sets: { default: { primary, typeorm } } });
    it.each([
      [
        { synchronise: true },
        /Unknown option typeorm\.synchronise \(did you mean "synchronize"\?\): typeorm takes TypeORM's postgres DataSource options and @nestjs\/typeorm's/,
      ],
      [{ entites: [] }, /typeorm\.entites \(did you mean "entities"\?\)/],
      [{ autoloadEntities: true }, /typeorm\.autoloadEntities \(did you mean "autoLoadEntities"\?\)/],
      [{ connectTimeoutMs: 100 }, /typeorm\.connectTimeoutMs \(did you mean "connectTimeoutMS"\?\)/],
      [{ migrationRun: true }, /did you mean "migrationsRun"/],
      [{ retryAttemps: 1 }, /did you mean "retryAttempts"/],
      [{ colour: 'blue' }, /Unknown option typeorm\.colour: typeorm takes/],
    ])('rejects the shared %p, suggesting the closest key', (typeorm, message) => rejects(valid({ typeorm }), message));
    it('rejects a misspelled per-set key', () =>
      rejects(perSet({ poolsize: 3 }), /Unknown option sets\.default\.typeorm\.poolsize \(did you mean "poolSize"\?\)/));
    it('accepts TypeORM and @nestjs/typeorm keys', () => {
      const typeorm = {
        type: 'postgres',
        entities: [],
        synchronize: false,
        poolSize: 5,
        extra: { max: 5, idleTimeoutMillis: 1000 },
        autoLoadEntities: true,
        retryAttempts: 0,
        retryDelay: 1,
        toRetry: () => false,
        verboseRetryLog: true,
        manualInitialization: false,
      };
      expect(resolvePinDbOptions(valid({ typeorm })).sets.get('default')!.typeorm).toMatchObject({ poolSize: 5, autoLoadEntities: true });
    });

    it.each(['host', 'port', 'user', 'username', 'password', 'database', 'connectionString', 'stream'])('rejects extra.%s, shared and per set', (key) => {
      const message = new RegExp(
        `typeorm\\.extra\\.${key} would connect every pool of the set, replicas included, to one server: put servers in sets\\.<name>\\.primary / replicas`,
      );
      rejects(valid({ typeorm: { extra: { [key]: 'x' } } }), message);
      rejects(perSet({ extra: { max: 2, [key]: 'x' } }), new RegExp(`sets\\.default\\.${message.source}`));
    });
  });

  describe('health, statement timeouts, Server-Timing', () => {
    it('defaults: the documented health figures, no statement timeouts, no Server-Timing', () => {
      const resolved = resolvePinDbOptions(valid());
      expect(resolved.health).toEqual({
        intervalMs: 1000,
        maxLagBytes: 16 * 1024 * 1024,
        maxLagSeconds: 30,
        cooldownMs: 5000,
        maxCooldownMs: 60_000,
        connectTimeoutMs: 2000,
      });
      expect(resolved.statementTimeoutMs).toEqual({});
      expect(resolved.serverTiming).toBe(false);
    });
    it('merges the health fields given over the defaults', () => {
      expect(resolvePinDbOptions(valid({ health: { intervalMs: 250, maxLagSeconds: 0 } })).health).toMatchObject({
        intervalMs: 250,
        maxLagSeconds: 0,
        cooldownMs: 5000,
      });
    });
    it('rejects unknown health fields, naming the known ones', () =>
      rejects(valid({ health: { interval: 5 } }), /Unknown option health\.interval: health has intervalMs, maxLagBytes/));
    it.each([
      [{ intervalMs: 0 }, /health\.intervalMs must be a number ≥ 100 \(every server is checked each interval.*\(got 0\); the default is 1000/],
      [{ intervalMs: 1 }, /health\.intervalMs must be a number ≥ 100 .*\(got 1\)/],
      [{ intervalMs: 99.9 }, /health\.intervalMs must be a number ≥ 100/],
      [{ connectTimeoutMs: 10 }, /health\.connectTimeoutMs must be a number ≥ 50 \(less fails healthy servers.*\(got 10\); the default is 2000/],
      [{ connectTimeoutMs: '2s' }, /health\.connectTimeoutMs must be a number ≥ 50 .*\(got 2s\)/],
      [{ maxLagBytes: -1 }, /health\.maxLagBytes must be a number ≥ 0/],
      [{ cooldownMs: 0 }, /health\.cooldownMs must be a number > 0/],
      [{ maxLagSeconds: Infinity }, /health\.maxLagSeconds must be a number ≥ 0/],
    ])('rejects health %p below its minimum, with its default', (health, message) => rejects(valid({ health }), message));
    it('accepts the minimums themselves', () => {
      expect(resolvePinDbOptions(valid({ health: { intervalMs: 100, connectTimeoutMs: 50, maxLagBytes: 0 } })).health).toMatchObject({
        intervalMs: 100,
        connectTimeoutMs: 50,
        maxLagBytes: 0,
      });
    });
    it('rejects a cooldown cap below the cooldown', () =>
      rejects(valid({ health: { cooldownMs: 5000, maxCooldownMs: 1000 } }), /maxCooldownMs \(1000\) must be at least health\.cooldownMs \(5000\)/));
    it('rejects statement timeouts that are not whole milliseconds per role', () => {
      rejects(valid({ statementTimeoutMs: { replica: 1.5 } }), /statementTimeoutMs\.replica must be a whole number of milliseconds > 0/);
      rejects(valid({ statementTimeoutMs: { replicas: 100 } }), /Unknown option statementTimeoutMs\.replicas: give replica and\/or primary/);
      rejects(valid({ statementTimeoutMs: 100 }), /statementTimeoutMs must be an object such as \{ replica: 30000, primary: 10000 \}/);
    });
    it('rejects a serverTiming that is not a boolean', () => rejects(valid({ serverTiming: 'yes' }), /serverTiming must be true or false/));
    it("defaultTarget: 'replica' by default, 'primary' kept, anything else rejected naming the allowed values", () => {
      expect(resolvePinDbOptions(valid()).defaultTarget).toBe('replica');
      expect(resolvePinDbOptions(valid({ defaultTarget: 'primary' })).defaultTarget).toBe('primary');
      rejects(valid({ defaultTarget: 'master' }), /defaultTarget must be 'replica' or 'primary' \(got "master"\)/);
    });
    it('rawReads: false by default, a boolean else rejected', () => {
      expect(resolvePinDbOptions(valid()).rawReads).toBe(false);
      expect(resolvePinDbOptions(valid({ rawReads: true })).rawReads).toBe(true);
      rejects(valid({ rawReads: 'yes' }), /rawReads must be true or false \(got yes\), e\.g\. rawReads: true/);
    });
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
      expect(tokens).toMatchObject({
        secrets: ['s3cret'],
        secretGenerated: false,
        cookie: { name: 'pindb', sameSite: 'lax', path: '/' },
        header: 'x-pindb-token',
      });
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
      // The cookie library would throw these when writing a token, after the request's writes committed.
      ['cookie', { secret: 's', domain: 'https://x' }, /cookie\.domain must be a bare domain such as 'example\.com' .*\(got "https:\/\/x"\)/],
      ['cookie', { secret: 's', domain: 'example.com:8080' }, /cookie\.domain must be a bare domain/],
      ['cookie', { secret: 's', domain: '' }, /cookie\.domain must be a bare domain/],
      ['cookie', { secret: 's', domain: 42 }, /cookie\.domain must be a bare domain .*\(got 42\)/],
      ['cookie', { secret: 's', path: '/a;b' }, /cookie\.path must be a path starting with '\/'.*\(got "\/a;b"\)/],
      ['cookie', { secret: 's', path: 'api' }, /cookie\.path must be a path starting with '\/'/],
      ['cookie', { secret: 's', path: '/a\nb' }, /cookie\.path must be/],
      ['cookie', { secret: 's', path: '' }, /cookie\.path must be/],
      ['header', 'x pindb', /header must be a header name/],
      ['clientKey', 'user.id', /clientKey must be a function/],
      ['store', { get() {} }, /store must be a PinStore/],
      ['store', new MemoryPinStore(), /store needs clientKey/],
    ])('rejects %s = %p', (key, value, message) => rejects(valid({ cookie: { secret: 's' }, [key]: value }), message));
  });
});
