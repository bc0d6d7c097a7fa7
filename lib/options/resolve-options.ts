import { randomBytes } from 'node:crypto';
import { serialize } from 'cookie';
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
import { checkServerFields, mergeServerOptions, type ReplicaPlacement, replicaPlacement, serverIdentity, serverLabel } from './server-options.js';
import { checkTypeOrmOptions } from './typeorm-options.js';
import { type ResolvedDiscovery, resolveDiscover } from './discover-options.js';

export interface ResolvedServer {
  options: ServerOptions;
  /** host:port */
  label: string;
}

export interface ResolvedSet {
  name: string;
  primary: ResolvedServer;
  replicas: (ResolvedServer & ReplicaPlacement)[];
  /** Replicas found at runtime, beside `replicas` (lib/health/replica-discovery.ts). */
  discover?: ResolvedDiscovery;
  typeorm: SharedTypeOrmOptions;
  /** Writes follow a replica promoted on a newer timeline once the primary is lost. */
  followPromotion: boolean;
}

export interface ResolvedPinDbOptions {
  sets: Map<string, ResolvedSet>;
  mode: RoutingMode;
  /** Where reads go that nothing steers. */
  defaultTarget: 'replica' | 'primary';
  consistency: Consistency;
  pinSeconds: number;
  /** lsn mode: how long a read waits for a replica to replay its token before it goes to the primary (0: not at all). */
  replayWaitMs: number;
  replicaSelection: ReplicaSelection;
  /** This app instance's zone: its replicas are preferred; undefined: zones are ignored. */
  zone?: string;
  /** The sets an unsafe HTTP method pins. */
  pinUnsafeMethods: string[];
  enabled: boolean;
  /** dataSource.query() / manager.query() without a runner take a read-mode runner. */
  rawReads: boolean;
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
const SELECTIONS: ReplicaSelection[] = ['round-robin', 'random', 'least-busy', 'fastest'];
const SET_KEYS = ['primary', 'replicas', 'typeorm', 'discover', 'followPromotion'];
/** A read that waits longer than this for a replica had better read the primary: its request is waiting too. */
const MAX_REPLAY_WAIT_MS = 60_000;

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
  oneOf('defaultTarget', options.defaultTarget, ['replica', 'primary']);
  oneOf('consistency', options.consistency, CONSISTENCIES);
  oneOf('replicaSelection', options.replicaSelection, SELECTIONS);
  if (options.zone !== undefined && !(typeof options.zone === 'string' && options.zone.trim() !== '')) {
    throw new PinDbConfigError(
      `PinDbModule option zone must be a non-empty string naming this instance's zone, as the replicas' zone names theirs (got ${JSON.stringify(options.zone)}), ` +
        'e.g. zone: process.env.AWS_AVAILABILITY_ZONE; leave it out to ignore zones.',
    );
  }
  if (typeof options.pinSeconds !== 'number' || !(options.pinSeconds > 0) || !Number.isFinite(options.pinSeconds)) {
    throw new PinDbConfigError(`PinDbModule option pinSeconds must be a number of seconds > 0 (got ${String(options.pinSeconds)}), e.g. pinSeconds: 15.`);
  }
  if (
    typeof options.replayWaitMs !== 'number' ||
    !Number.isFinite(options.replayWaitMs) ||
    options.replayWaitMs < 0 ||
    options.replayWaitMs > MAX_REPLAY_WAIT_MS
  ) {
    throw new PinDbConfigError(
      `PinDbModule option replayWaitMs must be a number of milliseconds from 0 (no wait) to ${MAX_REPLAY_WAIT_MS} (got ${String(options.replayWaitMs)}), ` +
        `e.g. replayWaitMs: ${new PinDbModuleOptions().replayWaitMs}: how long a read whose token no replica has replayed waits for one before it goes to the primary.`,
    );
  }
  if (typeof options.serverTiming !== 'boolean') {
    throw new PinDbConfigError(`PinDbModule option serverTiming must be true or false (got ${String(options.serverTiming)}).`);
  }
  if (typeof options.enabled !== 'boolean') {
    throw new PinDbConfigError(`PinDbModule option enabled must be true or false (got ${String(options.enabled)}).`);
  }
  if (typeof options.rawReads !== 'boolean') {
    throw new PinDbConfigError(`PinDbModule option rawReads must be true or false (got ${String(options.rawReads)}), e.g. rawReads: true.`);
  }
  const shared = checkTypeOrmOptions(options.typeorm, 'typeorm');
  const sets = resolveSets(options.sets, shared);
  return {
    sets,
    mode: options.mode!,
    defaultTarget: options.defaultTarget!,
    consistency: options.consistency!,
    pinSeconds: options.pinSeconds,
    replayWaitMs: options.replayWaitMs,
    replicaSelection: options.replicaSelection!,
    zone: options.zone,
    pinUnsafeMethods: resolvePinUnsafeMethods(options.pinUnsafeMethods, sets),
    enabled: options.enabled,
    rawReads: options.rawReads,
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
    throw new PinDbConfigError(
      `PinDbModule option health must be an object such as { intervalMs: 1000, maxLagBytes: 16777216 } (got ${JSON.stringify(input)}).`,
    );
  }
  const keys = Object.keys(defaults);
  for (const key of Object.keys(input)) {
    if (!keys.includes(key)) throw new PinDbConfigError(`Unknown option health.${key}: health has ${keys.join(', ')}.`);
  }
  const health = { ...defaults, ...withoutUndefined(input as HealthOptions) } as Required<HealthOptions>;
  for (const key of keys as (keyof HealthOptions)[]) {
    const value = health[key];
    const { min, inclusive, why = '' } = HEALTH_LIMITS[key];
    if (typeof value !== 'number' || !Number.isFinite(value) || (inclusive ? value < min : value <= min)) {
      throw new PinDbConfigError(
        `PinDbModule option health.${key} must be a number ${inclusive ? '≥' : '>'} ${min}${why} (got ${String(value)}); the default is ${defaults[key]}.`,
      );
    }
  }
  if (health.maxCooldownMs < health.cooldownMs) {
    throw new PinDbConfigError(`PinDbModule option health.maxCooldownMs (${health.maxCooldownMs}) must be at least health.cooldownMs (${health.cooldownMs}).`);
  }
  return health;
}

/**
 * The least each health figure may be. The check interval and connect timeout have floors of
 * their own: every server is checked each interval, so intervalMs: 1 would be 1,000 queries a
 * second per server, and a connect timeout under 50 ms fails a healthy server across a network.
 */
const HEALTH_LIMITS: Record<keyof HealthOptions, { min: number; inclusive: boolean; why?: string }> = {
  intervalMs: { min: 100, inclusive: true, why: ' (every server is checked each interval: less loads the servers with checks)' },
  connectTimeoutMs: { min: 50, inclusive: true, why: ' (less fails healthy servers over an ordinary network)' },
  maxLagBytes: { min: 0, inclusive: true },
  maxLagSeconds: { min: 0, inclusive: true },
  cooldownMs: { min: 0, inclusive: false },
  maxCooldownMs: { min: 0, inclusive: false },
};

function resolveStatementTimeouts(input: unknown): StatementTimeoutOptions {
  if (!isObject(input)) {
    throw new PinDbConfigError(
      `PinDbModule option statementTimeoutMs must be an object such as { replica: 30000, primary: 10000 } (got ${JSON.stringify(input)}).`,
    );
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
    throw new PinDbConfigError(
      `PinDbModule option metrics must be true, false or { registry, prefix } (got ${JSON.stringify(input)}); leave it out to get metrics whenever prom-client is installed.`,
    );
  }
  for (const key of Object.keys(input)) {
    if (!METRICS_KEYS.includes(key)) throw new PinDbConfigError(`Unknown option metrics.${key}: metrics has ${METRICS_KEYS.join(', ')}.`);
  }
  const { registry, prefix = 'pindb_' } = input as { registry?: unknown; prefix?: unknown };
  if (typeof prefix !== 'string' || !/^([a-zA-Z_:][a-zA-Z0-9_:]*)?$/.test(prefix)) {
    throw new PinDbConfigError(
      `PinDbModule option metrics.prefix must start Prometheus metric names: letters, digits, _ and :, not starting with a digit, e.g. 'pindb_' (got ${JSON.stringify(prefix)}).`,
    );
  }
  const methods = ['registerMetric', 'getSingleMetric', 'removeSingleMetric'];
  if (registry !== undefined && !(isObject(registry) && methods.every((m) => typeof (registry as Record<string, unknown>)[m] === 'function'))) {
    throw new PinDbConfigError(
      "PinDbModule option metrics.registry must be a prom-client Registry (new Registry() or `register` from 'prom-client'); leave it out for prom-client's default registry.",
    );
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
  checkCookieAttributes(name, { secure, sameSite, path, domain });
  if (header !== false && (typeof header !== 'string' || !/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(header))) {
    throw new PinDbConfigError(`PinDbModule option header must be a header name such as 'x-pindb-token', or false (got ${JSON.stringify(header)}).`);
  }
  if (clientKey !== undefined && typeof clientKey !== 'function') {
    throw new PinDbConfigError('PinDbModule option clientKey must be a function of the request, e.g. (req) => req.user?.id.');
  }
  if (
    store !== undefined &&
    !(isObject(store) && ['get', 'set', 'delete'].every((m) => typeof (store as unknown as Record<string, unknown>)[m] === 'function'))
  ) {
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

/**
 * The cookie library checks path and domain only when it writes a token, after the request's
 * writes have committed: a value it rejects would fail every response that hands out a token. So
 * each is tried with the same library here, at bootstrap.
 */
function checkCookieAttributes(
  name: string,
  { secure, sameSite, path, domain }: { secure: boolean; sameSite: PinCookieOptions['sameSite']; path: unknown; domain: unknown },
): void {
  const pathFix = "a path starting with '/', such as '/' or '/api', without ';', '<' or control characters";
  if (typeof path !== 'string' || !path.startsWith('/') || !serializes(name, { path })) {
    throw new PinDbConfigError(`PinDbModule option cookie.path must be ${pathFix} (got ${JSON.stringify(path)}).`);
  }
  const domainFix = "a bare domain such as 'example.com' or '.example.com' (no scheme, port or path), or left out for the request's host";
  if (domain !== undefined && (typeof domain !== 'string' || domain === '' || !serializes(name, { domain }))) {
    throw new PinDbConfigError(`PinDbModule option cookie.domain must be ${domainFix} (got ${JSON.stringify(domain)}).`);
  }
  // All together, as a token is written (a check the library may add one day fails here too).
  const all = { httpOnly: true, secure, sameSite, path, domain, maxAge: 1 };
  if (!serializes(name, all)) {
    throw new PinDbConfigError(
      `PinDbModule options cookie (${JSON.stringify({ name, ...all })}) do not make a valid Set-Cookie header: check cookie.path and cookie.domain.`,
    );
  }
}

function serializes(name: string, options: Parameters<typeof serialize>[2]): boolean {
  try {
    serialize(name, 'token', options);
    return true;
  } catch {
    return false;
  }
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
  // `{ sets: { __proto__: { ... } } }` in an object literal sets the prototype, not a set.
  if (isObject(input) && ![Object.prototype, null].includes(Object.getPrototypeOf(input))) {
    throw new PinDbConfigError(
      'PinDbModule option sets must be a plain object of sets by name ({ default: { primary } }); it has a prototype of its own, ' +
        "as `{ __proto__: ... }` in an object literal makes: '__proto__' cannot be a set name.",
    );
  }
  if (!isObject(input) || Object.keys(input).length === 0) {
    throw new PinDbConfigError(
      'PinDbModule needs at least one database set: sets: { default: { primary: { host, port, username, password, database }, replicas: [{ host }] } }.',
    );
  }
  const sets = new Map<string, ResolvedSet>();
  for (const [name, set] of Object.entries(input)) {
    checkSetName(name);
    const where = `sets.${name}`;
    if (!isObject(set)) throw new PinDbConfigError(`${where} must be an object with a primary: { primary: { url }, replicas: [...] }.`);
    for (const key of Object.keys(set)) {
      if (!SET_KEYS.includes(key)) throw new PinDbConfigError(`Unknown option ${where}.${key}: a set has ${SET_KEYS.join(', ')}.`);
    }
    const { primary, replicas = [], typeorm, followPromotion = false } = set as unknown as DatabaseSetOptions;
    if (typeof followPromotion !== 'boolean') {
      throw new PinDbConfigError(
        `${where}.followPromotion must be true or false (got ${JSON.stringify(followPromotion)}): true lets writes follow a promoted replica.`,
      );
    }
    if (!isObject(primary)) {
      throw new PinDbConfigError(`${where} has no primary: give ${where}.primary as { host, port, username, password, database } or { url }.`);
    }
    checkServerFields(primary, `${where}.primary`);
    if (!Array.isArray(replicas)) {
      throw new PinDbConfigError(`${where}.replicas must be an array of servers, e.g. [{ host: 'replica-1' }] (or leave it out for none).`);
    }
    const resolvedReplicas = replicas.map((replica, i) => {
      if (!isObject(replica)) {
        throw new PinDbConfigError(
          `${where}.replicas[${i}] is not an object (got ${JSON.stringify(replica)}): give { host, port? }, merged over the primary's options, or { url }.`,
        );
      }
      checkServerFields(replica, `${where}.replicas[${i}]`, 'replica');
      const merged = mergeServerOptions(primary, replica);
      return { options: merged, label: serverLabel(merged), ...replicaPlacement(replica) };
    });
    checkDistinctServers(primary, resolvedReplicas, where);
    sets.set(name, {
      name,
      primary: { options: primary, label: serverLabel(primary) },
      replicas: resolvedReplicas,
      ...('discover' in set && { discover: resolveDiscover(set.discover, `${where}.discover`) }),
      typeorm: { ...shared, ...checkTypeOrmOptions(typeorm, `${where}.typeorm`) },
      followPromotion,
    });
  }
  return sets;
}

/** Printable ASCII without spaces: a set name travels in tokens, metric labels and log lines. */
const SET_NAME = /^[\x21-\x7E]{1,63}$/;

function checkSetName(name: string): void {
  // A set named like a property of every object would be found on objects that do not hold it
  // (sets['toString']), or change their prototype (__proto__).
  if (name in Object.prototype) {
    throw new PinDbConfigError(
      `PinDbModule set name "${name}" is a name every JavaScript object has (Object.prototype.${name}): name the set otherwise, e.g. "${name}Db".`,
    );
  }
  if (!SET_NAME.test(name)) {
    throw new PinDbConfigError(
      `PinDbModule set name ${JSON.stringify(name)} is not allowed: a set name is 1 to 63 printable ASCII characters without spaces ` +
        "(letters, digits, punctuation), e.g. 'default' or 'analytics'.",
    );
  }
}

/** Two servers of a set that are one database: reads would count it twice, and a "replica" that is the primary is no replica. */
function checkDistinctServers(primary: ServerOptions, replicas: ResolvedServer[], where: string): void {
  const seen = new Map<string, string>([[serverIdentity(primary), `${where}.primary`]]);
  replicas.forEach((replica, i) => {
    const identity = serverIdentity(replica.options);
    const other = seen.get(identity);
    if (other !== undefined) {
      throw new PinDbConfigError(
        `${where}.replicas[${i}] (${replica.label}) is the same host, port and database as ${other}: ` +
          "a replica merges over its primary, so give each replica its own host or port (replicas: [{ host: 'replica-1' }]), and list each once.",
      );
    }
    seen.set(identity, `${where}.replicas[${i}]`);
  });
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
