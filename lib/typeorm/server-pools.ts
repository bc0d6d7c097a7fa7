import type { Pool, PoolConfig } from 'pg';
import type { PostgresDataSourceOptions as PostgresConnectionOptions } from './typeorm-compat.js';
import type { PostgresConnectionCredentialsOptions } from 'typeorm/driver/postgres/PostgresConnectionCredentialsOptions.js';
import type { CheckedOutConnections } from '../health/checked-out-connections.js';
import type { ReplicaHost } from '../health/replica-host.js';
import type { ServerOptions } from '../options/pin-db-module-options.js';
import type { SetRouter } from '../routing/set-router.js';

/** Creates a pool the way TypeORM's PostgresDriver.createPool does. */
export type CreatePool = (options: PostgresConnectionOptions, credentials: PostgresConnectionCredentialsOptions) => Promise<Pool>;

/**
 * The pool of one server of the set, as RoutedPostgresDriver.createPool makes it (TypeORM's
 * `createPool`, which `typeormCreatePool` is):
 * - a replica's pool is made without connecting: TypeORM's would connect at once and reject when
 *   the replica is down, failing the app's bootstrap over one replica. The health monitor and the
 *   first reads find out whether it is up;
 * - replica connections time out after `health.connectTimeoutMs`, so a frozen replica cannot hold
 *   a read for the OS's TCP timeout; the primary's too, unless `typeorm.connectTimeoutMS` is set;
 * - each role's connections get its `statementTimeoutMs` as PostgreSQL's statement_timeout;
 * - every server's checked-out connections are tracked (the primary's on `router.primary`, a
 *   replica's on its host), so that the health monitor can cut them when the server stops
 *   answering.
 * A pool is told apart by the credentials object TypeORM passes, the very one of the set's
 * `replication` options: one that matches neither the primary's nor a replica's is an error, not a
 * guess, since routing by a wrong guess would send writes to a replica or reads to nowhere.
 */
export async function createServerPool(
  router: SetRouter,
  PoolClass: new (config: PoolConfig) => Pool,
  options: PostgresConnectionOptions,
  credentials: PostgresConnectionCredentialsOptions,
  typeormCreatePool: CreatePool,
): Promise<Pool> {
  const { health, statementTimeoutMs } = router.options;
  // Without `replication` TypeORM passes the options themselves as the primary's credentials.
  const primaryCredentials = options.replication ? options.replication.master : options;
  if (credentials === primaryCredentials) {
    const extra = withStatementTimeout(options.extra, statementTimeoutMs.primary);
    const pool = await typeormCreatePool({ ...options, connectTimeoutMS: options.connectTimeoutMS ?? health.connectTimeoutMs, extra }, credentials);
    track(pool, router.primary.connections);
    return pool;
  }
  const host = router.configuredHosts[options.replication?.slaves.indexOf(credentials) ?? -1];
  if (!host) {
    throw new Error(
      `nestjs-pindb could not match the pool TypeORM is creating (${serverOf(credentials)}) to a server of the set "${router.name}": ` +
        `its credentials are neither the primary's (${router.primary.label}) nor a replica's (${router.hosts.hosts.map((h) => h.label).join(', ') || 'none'}). ` +
        'The DataSource must be created from the options PinDbModule gives it, with their `replication` unchanged.',
    );
  }
  return createReplicaPool(router, PoolClass, options, credentials, host);
}

/**
 * A replica's pool, made without connecting (see createServerPool), tracked and attached to
 * `host`: a configured replica's (TypeORM's `slaves`) and a discovered one's alike, so that both
 * get the same settings.
 */
export function createReplicaPool(
  router: SetRouter,
  PoolClass: new (config: PoolConfig) => Pool,
  options: PostgresConnectionOptions,
  /** TypeORM's `slaves` entry, or a discovered replica's options (merged over the primary's). */
  credentials: PostgresConnectionCredentialsOptions | ServerOptions,
  host: ReplicaHost,
): Pool {
  const { health, statementTimeoutMs } = router.options;
  // The same settings TypeORM's createPool gives a pool, in the same order (`extra` over the rest).
  const config: PoolConfig = {
    connectionString: credentials.url,
    host: credentials.host,
    user: credentials.username,
    password: credentials.password as string | undefined,
    database: credentials.database,
    port: credentials.port,
    ssl: credentials.ssl as PoolConfig['ssl'],
    application_name: options.applicationName ?? credentials.applicationName,
    max: options.poolSize,
    ...withStatementTimeout(options.extra, statementTimeoutMs.replica),
    connectionTimeoutMillis: health.connectTimeoutMs,
  };
  const pool = new PoolClass(config);
  // An idle connection broke (the replica restarted, or its backend was terminated): the pool
  // drops it. Without a listener pg would crash the app; whether the replica is down is for the
  // next connect or health check to say.
  pool.on('error', options.poolErrorHandler ?? (() => undefined));
  track(pool, host.connections);
  host.attach(pool);
  return pool;
}

/** The server knows its checked-out connections, whoever took them, to cut them if it freezes. */
function track(pool: Pool, connections: CheckedOutConnections): void {
  pool.on('acquire', (client) => connections.checkOut(client));
  pool.on('release', (_error, client) => connections.checkIn(client));
}

/** host:port (or "a connection URL") for the message: never the password. */
function serverOf(credentials: PostgresConnectionCredentialsOptions): string {
  if (credentials.host !== undefined || credentials.port !== undefined) return `${credentials.host ?? 'localhost'}:${credentials.port ?? 5432}`;
  return credentials.url ? 'a connection URL' : 'no host';
}

function withStatementTimeout(extra: unknown, statementTimeout: number | undefined): Record<string, unknown> {
  const base = (extra ?? {}) as Record<string, unknown>;
  return statementTimeout === undefined ? base : { ...base, statement_timeout: statementTimeout };
}
