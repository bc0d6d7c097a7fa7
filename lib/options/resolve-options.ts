import { randomBytes } from 'node:crypto';
import { PinDbConfigError } from '../errors/pin-db-config.error.js';
import { MemoryPinStore } from '../stores/memory-pin.store.js';
import type { PinStore } from '../stores/pin-store.js';
import {
  DatabaseSetOptions,
  HealthOptions,
  MetricsRegistry,
  PinCookieOptions,
  PinDbModuleOptions,
  PinRequest,
  ReplicaSelection,
  RoutingMode,
  Consistency,
  ServerOptions,
  SharedTypeOrmOptions,
  StatementTimeoutOptions,
} from './pin-db-module-options.js';
import { mergeServerOptions, serverLabel } from './server-options.js';

export interface ResolvedServer {
  options: ServerOptions;
  /** host:port */
  label: string;
}

export interface ResolvedSet {
  name: string;
  primary: ResolvedServer;
  replicas: ResolvedServer[];
  typeorm: SharedTypeOrmOptions;
}

export interface ResolvedPinDbOptions {
  sets: Map<string, ResolvedSet>;
  mode: RoutingMode;
  consistency: Consistency;
  pinSeconds: number;
  replicaSelection: ReplicaSelection;
  /** The sets an unsafe HTTP method pins. */
  pinUnsafeMethods: string[];
  enabled: boolean;
  tokens: ResolvedTokenOptions;
  health: Required<HealthOptions>;
  statementTimeoutMs: StatementTimeoutOptions;
  serverTiming: boolean;
  /** false: no metrics. */
  metrics: ResolvedMetricsOptions | false;
}

export interface ResolvedMetricsOptions {
  /** Asked for explicitly: bootstrap fails when prom-client is not installed (else metrics are just off). */
  required: boolean;
  /** Undefined: prom-client's default registry. */
  registry?: MetricsRegistry;
  prefix: string;
}

export interface ResolvedTokenOptions {
  /** The first signs; all verify. */
  secrets: string[];
  /** No secret was configured: one was made up for this process (development only). */
  secretGenerated: boolean;
  cookie?: Required<Pick<PinCookieOptions, 'name' | 'secure' | 'sameSite' | 'path'>> & Pick<PinCookieOptions, 'domain'>;
  /** Lower case, as Node gives request headers. */
  header?: string;
  store?: PinStore;
  clientKey?: (request: PinRequest) => string | undefined;
}

/** Environment variable that gives the token secret when cookie.secret does not. */
export const PINDB_SECRET_ENV = 'PINDB_SECRET';

const MODES: RoutingMode[] = ['greedy', 'strict'];
const CONSISTENCIES: Consistency[] = ['lsn', 'time'];
const SELECTIONS: ReplicaSelection[] = ['round-robin', 'random', 'least-busy'];
const SET_KEYS = ['primary', 'replicas', 'typeorm'];
const SERVER_KEYS = ['url', 'host', 'port', 'username', 'password', 'database', 'ssl', 'applicationName'];

/** Validates PinDbModule options and fills in the defaults; every problem is a PinDbConfigError that says how to fix it. */
export function resolvePinDbOptions(input: PinDbModuleOptions): ResolvedPinDbOptions {
  if (!isObject(input)) {
    throw new PinDbConfigError('PinDbModule.forRoot(options): options must be an object, e.g. { sets: { default: { primary: { url } } } }.');
  }
  const defaults = new PinDbModuleOptions();
  const known = [...new Set(['sets', ...Object.keys(defaults)])];
  for (const key of Object.keys(input)) {
    if (!known.includes(key)) throw new PinDbConfigError(`Unknown PinDbModule option "${key}": the options are ${known.join(', ')}.`);
  }
  const options = { ...defaults, ...withoutUndefined(input) };

  oneOf('mode', options.mode, MODES);
  oneOf('consistency', options.consistency, CONSISTENCIES);
  oneOf('replicaSelection', options.replicaSelection, SELECTIONS);
  if (typeof options.pinSeconds !== 'number' || !(options.pinSeconds > 0) || !Number.isFinite(options.pinSeconds)) {
    throw new PinDbConfigError(`PinDbModule option pinSeconds must be a number of seconds > 0 (got ${String(options.pinSeconds)}), e.g. pinSeconds: 15.`);
  }
  if (typeof options.serverTiming !== 'boolean') {
    throw new PinDbConfigError(`PinDbModule option serverTiming must be true or false (got ${String(options.serverTiming)}).`);
  }
  if (typeof options.enabled !== 'boolean') {
    throw new PinDbConfigError(`PinDbModule option enabled must be true or false (got ${String(options.enabled)}).`);
  }
  const shared = typeOrmOptions(options.typeorm, 'typeorm');
  const sets = resolveSets(options.sets, shared);
  return {
    sets,
    mode: options.mode!,
    consistency: options.consistency!,
    pinSeconds: options.pinSeconds,
    replicaSelection: options.replicaSelection!,
    pinUnsafeMethods: resolvePinUnsafeMethods(options.pinUnsafeMethods, sets),
    enabled: options.enabled,
    tokens: resolveTokenOptions(options),
    health: resolveHealthOptions(options.health),
    statementTimeoutMs: resolveStatementTimeouts(options.statementTimeoutMs),
    serverTiming: options.serverTiming!,
    metrics: resolveMetricsOptions(options.metrics),
  };
}

function resolveHealthOptions(input: unknown): Required<HealthOptions> {
  const defaults = new HealthOptions() as Required<HealthOptions>;
  if (!isObject(input)) {
    throw new PinDbConfigError(`PinDbModule option health must be an object such as { intervalMs: 1000, maxLagBytes: 16777216 } (got ${JSON.stringify(input)}).`);
  }
  const keys = Object.keys(defaults);
  for (const key of Object.keys(input)) {
    if (!keys.includes(key)) throw new PinDbConfigError(`Unknown option health.${key}: health has ${keys.join(', ')}.`);
  }
  const health = { ...defaults, ...withoutUndefined(input as HealthOptions) } as Required<HealthOptions>;
  for (const key of keys as (keyof HealthOptions)[]) {
    const value = health[key];
    const allowsZero = key === 'maxLagBytes' || key === 'maxLagSeconds';
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || (value === 0 && !allowsZero)) {
      throw new PinDbConfigError(`PinDbModule option health.${key} must be a number ${allowsZero ? '≥ 0' : '> 0'} (got ${String(value)}); the default is ${defaults[key]}.`);
    }
  }
  if (health.maxCooldownMs < health.cooldownMs) {
    throw new PinDbConfigError(`PinDbModule option health.maxCooldownMs (${health.maxCooldownMs}) must be at least health.cooldownMs (${health.cooldownMs}).`);
  }
  return health;
}

function resolveStatementTimeouts(input: unknown): StatementTimeoutOptions {
  if (!isObject(input)) {
    throw new PinDbConfigError(`PinDbModule option statementTimeoutMs must be an object such as { replica: 30000, primary: 10000 } (got ${JSON.stringify(input)}).`);
  }
  for (const [key, value] of Object.entries(input)) {
    if (key !== 'replica' && key !== 'primary') throw new PinDbConfigError(`Unknown option statementTimeoutMs.${key}: give replica and/or primary.`);
    if (value !== undefined && (typeof value !== 'number' || !Number.isInteger(value) || value <= 0)) {
      throw new PinDbConfigError(`PinDbModule option statementTimeoutMs.${key} must be a whole number of milliseconds > 0 (got ${String(value)}).`);
    }
  }
  return input as StatementTimeoutOptions;
}

const METRICS_KEYS = ['registry', 'prefix'];

function resolveMetricsOptions(input: unknown): ResolvedMetricsOptions | false {
  if (input === undefined) return { required: false, prefix: 'pindb_' };
  if (input === false) return false;
  if (input === true) return { required: true, prefix: 'pindb_' };
  if (!isObject(input)) {
    throw new PinDbConfigError(`PinDbModule option metrics must be true, false or { registry, prefix } (got ${JSON.stringify(input)}); leave it out to get metrics whenever prom-client is installed.`);
  }
  for (const key of Object.keys(input)) {
    if (!METRICS_KEYS.includes(key)) throw new PinDbConfigError(`Unknown option metrics.${key}: metrics has ${METRICS_KEYS.join(', ')}.`);
  }
  const { registry, prefix = 'pindb_' } = input as { registry?: unknown; prefix?: unknown };
  if (typeof prefix !== 'string' || !/^([a-zA-Z_:][a-zA-Z0-9_:]*)?$/.test(prefix)) {
    throw new PinDbConfigError(`PinDbModule option metrics.prefix must start Prometheus metric names: letters, digits, _ and :, not starting with a digit, e.g. 'pindb_' (got ${JSON.stringify(prefix)}).`);
  }
  const methods = ['registerMetric', 'getSingleMetric', 'removeSingleMetric'];
  if (registry !== undefined && !(isObject(registry) && methods.every((m) => typeof (registry as Record<string, unknown>)[m] === 'function'))) {
    throw new PinDbConfigError("PinDbModule option metrics.registry must be a prom-client Registry (new Registry() or `register` from 'prom-client'); leave it out for prom-client's default registry.");
  }
  return { required: true, registry: registry as MetricsRegistry | undefined, prefix };
}

const COOKIE_KEYS = ['name', 'secret', 'secure', 'sameSite', 'path', 'domain'];

function resolveTokenOptions({ cookie, header, store, clientKey }: PinDbModuleOptions): ResolvedTokenOptions {
  if (cookie !== false && !isObject(cookie)) {
    throw new PinDbConfigError(`PinDbModule option cookie must be an object ({ name, secret, secure, sameSite }) or false (got ${JSON.stringify(cookie)}).`);
  }
  const cookieOptions = cookie === false ? {} : (cookie as PinCookieOptions);
  for (const key of Object.keys(cookieOptions)) {
    if (!COOKIE_KEYS.includes(key)) throw new PinDbConfigError(`Unknown option cookie.${key}: the cookie has ${COOKIE_KEYS.join(', ')}.`);
  }
  const { name = 'pindb', secure = process.env.NODE_ENV === 'production', sameSite = 'lax', path = '/', domain } = cookieOptions;
  if (typeof name !== 'string' || !/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(name)) {
    throw new PinDbConfigError(`PinDbModule option cookie.name must be a cookie name such as 'pindb' (got ${JSON.stringify(name)}).`);
  }
  if (typeof secure !== 'boolean') throw new PinDbConfigError(`PinDbModule option cookie.secure must be true or false (got ${JSON.stringify(secure)}).`);
  oneOf('cookie.sameSite', sameSite, ['lax', 'strict', 'none']);
  if (header !== false && (typeof header !== 'string' || !/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(header))) {
    throw new PinDbConfigError(`PinDbModule option header must be a header name such as 'x-pindb-token', or false (got ${JSON.stringify(header)}).`);
  }
  if (clientKey !== undefined && typeof clientKey !== 'function') {
    throw new PinDbConfigError('PinDbModule option clientKey must be a function of the request, e.g. (req) => req.user?.id.');
  }
  if (store !== undefined && !(isObject(store) && ['get', 'set', 'delete'].every((m) => typeof (store as unknown as Record<string, unknown>)[m] === 'function'))) {
    throw new PinDbConfigError('PinDbModule option store must be a PinStore (get, set, delete), e.g. new MemoryPinStore() or new RedisPinStore(redis).');
  }
  if (store !== undefined && clientKey === undefined) {
    throw new PinDbConfigError('PinDbModule option store needs clientKey, the key of a client in the store: clientKey: (req) => req.user?.id.');
  }
  const { secrets, generated } = resolveSecrets(cookieOptions.secret);
  return {
    secrets,
    secretGenerated: generated,
    cookie: cookie === false ? undefined : { name, secure, sameSite, path, domain },
    header: header === false ? undefined : (header as string).toLowerCase(),
    store: clientKey ? (store ?? new MemoryPinStore()) : undefined,
    clientKey,
  };
}

function resolveSecrets(secret: unknown): { secrets: string[]; generated: boolean } {
  const given = secret ?? process.env[PINDB_SECRET_ENV];
  const secrets = typeof given === 'string' ? [given] : given;
  if (secrets === undefined || secrets === '') {
    if (process.env.NODE_ENV === 'production') {
      throw new PinDbConfigError(
        `PinDbModule needs a secret to sign read-your-writes tokens in production: set cookie: { secret } or the ${PINDB_SECRET_ENV} ` +
          'environment variable to a long random string (the same on every instance of the app).',
      );
    }
    return { secrets: [randomBytes(32).toString('base64url')], generated: true };
  }
  if (!Array.isArray(secrets) || secrets.length === 0 || !secrets.every((s) => typeof s === 'string' && s.length > 0)) {
    throw new PinDbConfigError('PinDbModule option cookie.secret must be a non-empty string, or a list of them (the first signs, all verify).');
  }
  return { secrets, generated: false };
}

/** Checks that every set named (by a decorator or a call) exists. */
export function assertKnownSets(sets: Map<string, ResolvedSet>, names: Iterable<string>, where: string): void {
  for (const name of names) {
    if (!sets.has(name)) {
      throw new PinDbConfigError(
        `${where} names database set "${name}", which PinDbModule does not define: the sets are ${[...sets.keys()].join(', ')}. ` +
          `Fix the name, or add "${name}" to the sets option.`,
      );
    }
  }
}

function resolveSets(input: unknown, shared: SharedTypeOrmOptions): Map<string, ResolvedSet> {
  if (!isObject(input) || Object.keys(input).length === 0) {
    throw new PinDbConfigError(
      'PinDbModule needs at least one database set: sets: { default: { primary: { host, port, username, password, database }, replicas: [{ host }] } }.',
    );
  }
  const sets = new Map<string, ResolvedSet>();
  for (const [name, set] of Object.entries(input)) {
    const where = `sets.${name}`;
    if (!isObject(set)) throw new PinDbConfigError(`${where} must be an object with a primary: { primary: { url }, replicas: [...] }.`);
    for (const key of Object.keys(set)) {
      if (!SET_KEYS.includes(key)) throw new PinDbConfigError(`Unknown option ${where}.${key}: a set has ${SET_KEYS.join(', ')}.`);
    }
    const { primary, replicas = [], typeorm } = set as unknown as DatabaseSetOptions;
    if (!isObject(primary)) {
      throw new PinDbConfigError(`${where} has no primary: give ${where}.primary as { host, port, username, password, database } or { url }.`);
    }
    serverFields(primary, `${where}.primary`);
    if (!Array.isArray(replicas)) {
      throw new PinDbConfigError(`${where}.replicas must be an array of servers, e.g. [{ host: 'replica-1' }] (or leave it out for none).`);
    }
    const resolvedReplicas = replicas.map((replica, i) => {
      if (!isObject(replica)) {
        throw new PinDbConfigError(
          `${where}.replicas[${i}] is not an object (got ${JSON.stringify(replica)}): give { host, port? }, merged over the primary's options, or { url }.`,
        );
      }
      serverFields(replica, `${where}.replicas[${i}]`);
      const merged = mergeServerOptions(primary, replica);
      return { options: merged, label: serverLabel(merged) };
    });
    sets.set(name, {
      name,
      primary: { options: primary, label: serverLabel(primary) },
      replicas: resolvedReplicas,
      typeorm: { ...shared, ...typeOrmOptions(typeorm, `${where}.typeorm`) },
    });
  }
  return sets;
}

function serverFields(server: object, where: string): void {
  for (const key of Object.keys(server)) {
    if (!SERVER_KEYS.includes(key)) {
      throw new PinDbConfigError(`Unknown option ${where}.${key}: a server has ${SERVER_KEYS.join(', ')}; other TypeORM options go in typeorm.`);
    }
  }
  const url = (server as ServerOptions).url;
  if (url !== undefined) {
    try {
      new URL(url);
    } catch {
      throw new PinDbConfigError(`${where}.url is not a URL: give postgres://user:password@host:port/database.`);
    }
  }
}

function typeOrmOptions(input: unknown, where: string): SharedTypeOrmOptions {
  if (input === undefined) return {};
  if (!isObject(input)) throw new PinDbConfigError(`${where} must be an object of TypeORM postgres options, e.g. { entities: [Product], poolSize: 10 }.`);
  const record = input as Record<string, unknown>;
  if (record.type !== undefined && record.type !== 'postgres') {
    throw new PinDbConfigError(`${where}.type is "${String(record.type)}": nestjs-pindb routes PostgreSQL only; leave type out.`);
  }
  for (const key of ['replication', 'name', ...SERVER_KEYS]) {
    if (key in record) {
      throw new PinDbConfigError(
        `${where}.${key} is set by nestjs-pindb from the sets option: put servers in sets.<name>.primary / replicas, and leave ${key} out of typeorm.`,
      );
    }
  }
  const { type: _type, ...rest } = record;
  return rest as SharedTypeOrmOptions;
}

function resolvePinUnsafeMethods(input: unknown, sets: Map<string, ResolvedSet>): string[] {
  if (input === true) return [...sets.keys()];
  if (input === false) return [];
  if (Array.isArray(input) && input.every((name) => typeof name === 'string')) {
    assertKnownSets(sets, input, 'PinDbModule option pinUnsafeMethods');
    return input;
  }
  throw new PinDbConfigError(`PinDbModule option pinUnsafeMethods must be true (all sets), false, or a list of set names (got ${JSON.stringify(input)}).`);
}

function oneOf<T extends string>(name: string, value: unknown, allowed: T[]): void {
  if (!allowed.includes(value as T)) {
    throw new PinDbConfigError(`PinDbModule option ${name} must be ${allowed.map((v) => `'${v}'`).join(' or ')} (got ${JSON.stringify(value)}).`);
  }
}

function isObject(value: unknown): value is object {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function withoutUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
