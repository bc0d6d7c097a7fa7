import type { PostgresDataSourceOptions as PostgresConnectionOptions } from '../typeorm/typeorm-compat.js';
import type { PinStore } from '../stores/pin-store.js';

/**
 * How to reach one server: fields, or a `url` (postgres://user:password@host:port/database).
 * Checked at bootstrap: strings are strings, `port` a whole number from 1 to 65535.
 */
export interface ServerOptions {
  url?: string;
  host?: string;
  port?: number;
  username?: string;
  /** A string, or a function returning one or a promise of one (pg calls it at each connect, e.g. for a short-lived IAM token). */
  password?: string | (() => string | Promise<string>);
  database?: string;
  ssl?: PostgresConnectionOptions['ssl'];
  applicationName?: string;
}

/**
 * A replica: how to reach it (merged over the primary's options), and how it shares the reads.
 * `weight` and `zone` are refused on a primary. Checked at bootstrap: weight a finite number ≥ 0,
 * zone a non-empty string.
 */
export interface ReplicaServerOptions extends ServerOptions {
  /** Its share of the reads among the replicas that may serve one (3 beside 1: three reads in four); 0: a standby, read only when no replica of weight > 0 may serve. Ignored by 'fastest' (but for 0). Default: 1 */
  weight?: number;
  /** Its zone (availability zone, rack, region): with the module option `zone`, replicas of that zone serve the reads while one of them may. Default: none */
  zone?: string;
}

/** TypeORM postgres options that nestjs-pindb leaves to the user (it owns type, name and replication). */
export type SharedTypeOrmOptions = Omit<PostgresConnectionOptions, 'type' | 'name' | 'replication' | keyof ServerOptions> & {
  /** @nestjs/typeorm: add the entities of every `TypeOrmModule.forFeature([...], set)`. */
  autoLoadEntities?: boolean;
  /** @nestjs/typeorm: attempts to connect at bootstrap. */
  retryAttempts?: number;
  /** @nestjs/typeorm: ms between those attempts. */
  retryDelay?: number;
  /** @nestjs/typeorm: whether a failed connect is tried again. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- as @nestjs/typeorm declares it
  toRetry?: (error: any) => boolean;
  /** @nestjs/typeorm: log each failed attempt in full. */
  verboseRetryLog?: boolean;
  /** @nestjs/typeorm: do not initialize the DataSource at bootstrap (call `dataSource.initialize()` yourself). */
  manualInitialization?: boolean;
};

/**
 * A set's replicas by DNS: every address of `dns` (its A records, else its AAAA records) is a
 * replica, re-resolved every `intervalMs` (at least 1000). Checked at bootstrap.
 */
export interface DnsDiscoveryOptions {
  /** The name to resolve, e.g. 'replicas.db.internal' (a headless service, a Consul name, …). Default: none (required) */
  dns: string;
  /** The replicas' port. Default: the primary's port */
  port?: number;
  /** How often the name is resolved again, in ms, at least 1000. Default: 60000 */
  intervalMs?: number;
}

/**
 * A set's replicas by your function, called every `health.intervalMs` (cache in it if it is
 * costly): each server it returns is merged over the primary's options, as `replicas` are.
 */
export type ReplicaDiscoveryFunction = () => Promise<ReplicaServerOptions[]>;

/** `sets.<name>.discover`: by DNS, or by a function. */
export type DiscoverOptions = DnsDiscoveryOptions | ReplicaDiscoveryFunction;

/** One primary and the replicas that stream from it: one TypeORM DataSource, named after the set. */
export interface DatabaseSetOptions {
  primary: ServerOptions;
  /**
   * Each replica's options are merged over the primary's: `{ host: 'replica-1' }` is enough. No two
   * servers of a set may be the same host, port and database. Default: []
   */
  replicas?: ReplicaServerOptions[];
  /** Replicas found at runtime, beside `replicas`: by DNS (`{ dns: 'replicas.db.internal' }`) or your function (see DiscoverOptions). Default: none */
  discover?: DiscoverOptions;
  /**
   * TypeORM options for this set only, over the shared `typeorm` options. Unknown keys fail at
   * bootstrap, and so do connection settings in `extra` (host, port, user, …): servers go in
   * primary and replicas.
   */
  typeorm?: SharedTypeOrmOptions;
  /** Once the primary fails its health check, a replica found promoted on a newer timeline takes writes and pinned reads (see docs/health-and-failover.md). Default: false */
  followPromotion?: boolean;
}

/** The cookie that carries a browser's token between requests. */
export interface PinCookieOptions {
  /** Default: 'pindb' */
  name?: string;
  /** Signs tokens (HMAC-SHA256), cookie and header alike; a list rotates: the first signs, all verify. Default: $PINDB_SECRET */
  secret?: string | string[];
  /** Default: true when NODE_ENV=production */
  secure?: boolean;
  /** Default: 'lax' */
  sameSite?: 'lax' | 'strict' | 'none';
  /** A path starting with '/', valid in a Set-Cookie header. Default: '/' */
  path?: string;
  /** A bare domain such as 'example.com' or '.example.com' (no scheme, port or path). Default: the request's host */
  domain?: string;
}

/** A request as the app's framework gives it (Express or Fastify). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- what guards set on it (user, …) is the app's
export type PinRequest = { headers: Record<string, string | string[] | undefined>; [key: string]: any };

/**
 * How replicas are watched, and when one is taken out of the rotation. Minimums, so that a typo
 * cannot turn the checks into a load of their own: intervalMs ≥ 100, connectTimeoutMs ≥ 50,
 * cooldownMs and maxCooldownMs > 0 (maxCooldownMs ≥ cooldownMs), maxLagBytes and maxLagSeconds ≥ 0.
 */
export class HealthOptions {
  /** How often each server is checked, at least 100; each wait is jittered ±20 % so processes do not check in step. Default: 1000 */
  intervalMs?: number = 1000;
  /** A replica further behind its primary than this many bytes of WAL serves no reads. Default: 16777216 (16 MiB) */
  maxLagBytes?: number = 16 * 1024 * 1024;
  /** A replica whose last replayed transaction is older than this, while it is behind, serves no reads. Default: 30 */
  maxLagSeconds?: number = 30;
  /** How long a failed replica is skipped before a health check may re-admit it; doubles while it keeps failing. Default: 5000 */
  cooldownMs?: number = 5000;
  /** The longest cooldown. Default: 60000 */
  maxCooldownMs?: number = 60_000;
  /** Connect timeout of replica connections (and of the primary's, unless typeorm.connectTimeoutMS is set), and the most a health check may take; at least 50. Default: 2000 */
  connectTimeoutMs?: number = 2000;
}

/** PostgreSQL's statement_timeout on the connections of each role, in ms; undefined: the server's setting. */
export interface StatementTimeoutOptions {
  /** Default: undefined */
  replica?: number;
  /** Default: undefined */
  primary?: number;
}

/**
 * A prom-client `Registry`, by its shape: the main entry point does not import prom-client (an
 * optional peer dependency), not even its types.
 */
export interface MetricsRegistry {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- prom-client's metric types are not imported
  registerMetric(metric: any): void;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- prom-client's metric types are not imported
  getSingleMetric(name: string): any;
  removeSingleMetric(name: string): void;
}

/** Where the Prometheus metrics go. */
export interface PinDbMetricsOptions {
  /** Default: prom-client's default registry (`register`) */
  registry?: MetricsRegistry;
  /** Put before every metric name. Default: 'pindb_' */
  prefix?: string;
}

export type RoutingMode = 'greedy' | 'strict';
export type Consistency = 'lsn' | 'time';
export type ReplicaSelection = 'round-robin' | 'random' | 'least-busy' | 'fastest';

/**
 * The options of `PinDbModule.forRoot()`. Only `sets` is required; every other field has the
 * default given in its comment.
 */
export class PinDbModuleOptions {
  /**
   * The database sets by name; `default` is TypeORM's default DataSource. A name is 1 to 63
   * printable ASCII characters without spaces (letters, digits, punctuation) and not a name of
   * Object.prototype (constructor, toString, __proto__, …).
   */
  sets!: Record<string, DatabaseSetOptions>;
  /** TypeORM postgres options shared by every set (entities, synchronize, migrations, logging, poolSize, …). Default: {} */
  typeorm?: SharedTypeOrmOptions = {};
  /** 'greedy': a write pins its set for the rest of the context. 'strict': a write to an unpinned set throws. Default: 'greedy' */
  mode?: RoutingMode = 'greedy';
  /** How a client's later requests see its writes: by WAL position ('lsn') or a pin window ('time'). Default: 'lsn' */
  consistency?: Consistency = 'lsn';
  /** time mode: the pin window; lsn mode: the most a token lives. Default: 15 */
  pinSeconds?: number = 15;
  /** lsn mode: ms a read whose token no replica has replayed yet waits for one to, before it goes to the primary; 0: no wait. Default: 200 */
  replayWaitMs?: number = 200;
  /** Where reads go that nothing steers: 'primary' keeps them there except in @UseReplica / routing.useReplica (replicas only where the app opts in); pins and tokens keep their meaning. Default: 'replica' */
  defaultTarget?: 'replica' | 'primary' = 'replica';
  /** How a replica is chosen for a read, by its weight ('round-robin', 'random', 'least-busy') or its recent statement times ('fastest'). Default: 'round-robin' */
  replicaSelection?: ReplicaSelection = 'round-robin';
  /** This app instance's zone: reads go to the replicas whose `zone` is this one while one of them may serve, else to the others; undefined: zones are ignored. Default: undefined */
  zone?: string = undefined;
  /** Which sets a request whose method is not GET, HEAD, OPTIONS or TRACE pins from its start: all (true), none (false) or these. Default: true */
  pinUnsafeMethods?: boolean | string[] = true;
  /** The cookie that carries tokens to browsers and back, or false. Default: { name: 'pindb' } */
  cookie?: PinCookieOptions | false = {};
  /** The header that carries tokens to API clients (set on responses, read from requests), or false. Default: 'x-pindb-token' */
  header?: string | false = 'x-pindb-token';
  /** Keeps the tokens of clients that send no cookie, under `clientKey(request)`. Default: a MemoryPinStore when clientKey is set */
  store?: PinStore;
  /** The key of a client in `store`, e.g. (req) => req.user?.id; undefined: this request has none. Default: none */
  clientKey?: (request: PinRequest) => string | undefined;
  /** Replica health checks, lag limits and failover cooldowns; fields left out keep their defaults. Default: new HealthOptions() */
  health?: HealthOptions = {};
  /** statement_timeout per role, so a runaway query cannot pile up on a replica or hold the primary. Default: {} */
  statementTimeoutMs?: StatementTimeoutOptions = {};
  /** Adds a Server-Timing header with the request's query counts (primary, replica, retries, fallbacks) for browser devtools. Default: false */
  serverTiming?: boolean = false;
  /** Prometheus metrics through prom-client: true or { registry, prefix } requires it, false turns them off. Default: on when prom-client is installed ({ prefix: 'pindb_' }, its default registry) */
  metrics?: boolean | PinDbMetricsOptions;
  /** dataSource.query() / manager.query() without a query runner: reads go where the context's reads go (replicas unless pinned), writes still pin and go to the primary. Default: false */
  rawReads?: boolean = false;
  /** false: every query on the primary, nothing pinned, no tokens (for your own tests). Default: true */
  enabled?: boolean = true;
}
