import type { Pool, PoolConfig } from 'pg';
import type { PostgresDriver } from 'typeorm/driver/postgres/PostgresDriver.js';
import type { PostgresDataSourceOptions as PostgresConnectionOptions } from 'typeorm/driver/postgres/PostgresDataSourceOptions.js';
import type { PostgresConnectionCredentialsOptions } from 'typeorm/driver/postgres/PostgresConnectionCredentialsOptions.js';
import type { SetRouter } from '../routing/set-router.js';

type CreatePool = (options: PostgresConnectionOptions, credentials: PostgresConnectionCredentialsOptions) => Promise<Pool>;

/**
 * Takes over the creation of the set's connection pools (TypeORM's `createPool`):
 * - a replica's pool is made without connecting: TypeORM's would connect at once and reject when
 *   the replica is down, failing the app's bootstrap over one replica. The health monitor and the
 *   first reads find out whether it is up;
 * - replica connections time out after `health.connectTimeoutMs`, so a frozen replica cannot hold
 *   a read for the OS's TCP timeout; the primary's too, unless `typeorm.connectTimeoutMS` is set;
 * - each role's connections get its `statementTimeoutMs` as PostgreSQL's statement_timeout.
 */
export function installServerPools(driver: PostgresDriver, router: SetRouter): void {
  const createPool = (driver as unknown as { createPool: CreatePool }).createPool.bind(driver);
  const { health, statementTimeoutMs } = router.options;
  (driver as unknown as { createPool: CreatePool }).createPool = async (options, credentials) => {
    const index = options.replication?.slaves.indexOf(credentials) ?? -1;
    const host = router.hosts.hosts[index];
    if (!host) {
      const extra = withStatementTimeout(options.extra, statementTimeoutMs.primary);
      return createPool({ ...options, connectTimeoutMS: options.connectTimeoutMS ?? health.connectTimeoutMs, extra }, credentials);
    }
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
    const pool: Pool = new driver.postgres.Pool(config);
    // An idle connection broke (the replica restarted, or its backend was terminated): the pool
    // drops it. Without a listener pg would crash the app; whether the replica is down is for the
    // next connect or health check to say.
    pool.on('error', options.poolErrorHandler ?? (() => undefined));
    // The host knows its checked-out connections, whoever took them, to cut them if it freezes.
    pool.on('acquire', (client) => host.checkOut(client));
    pool.on('release', (_error, client) => host.checkIn(client));
    host.attach(pool);
    return pool;
  };
}

function withStatementTimeout(extra: unknown, statementTimeout: number | undefined): Record<string, unknown> {
  const base = (extra ?? {}) as Record<string, unknown>;
  return statementTimeout === undefined ? base : { ...base, statement_timeout: statementTimeout };
}
