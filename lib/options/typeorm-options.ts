import type { ClientConfig } from 'pg';
import { PinDbConfigError } from '../errors/pin-db-config.error.js';
import { didYouMean } from './closest-key.js';
import type { SharedTypeOrmOptions } from './pin-db-module-options.js';
import { SERVER_KEYS } from './server-options.js';

/** Options TypeORM 1.x added: accepted on 0.3 too (which ignores them), so one list serves both majors. */
type TypeOrm1OnlyKey = 'isolationLevel' | 'extensions';

/**
 * Every key of SharedTypeOrmOptions: TypeORM's postgres DataSource options (less those nestjs-pindb
 * sets) and @nestjs/typeorm's module options. Type-checked both ways, so that a TypeORM upgrade
 * that renames or adds an option breaks the build here instead of letting a key through unchecked.
 */
export const TYPEORM_OPTION_KEYS = [
  // TypeORM, any driver
  'entities',
  'subscribers',
  'isolationLevel',
  'migrations',
  'migrationsTableName',
  'migrationsTransactionMode',
  'metadataTableName',
  'namingStrategy',
  'logging',
  'logger',
  'maxQueryExecutionTime',
  'poolSize',
  'synchronize',
  'migrationsRun',
  'dropSchema',
  'entityPrefix',
  'entitySkipConstructor',
  'extra',
  'relationLoadStrategy',
  'typename',
  'cache',
  'isolateWhereStatements',
  'invalidWhereValuesBehavior',
  // TypeORM, postgres
  'schema',
  'driver',
  'nativeDriver',
  'useUTC',
  'connectTimeoutMS',
  'uuidExtension',
  'poolErrorHandler',
  'logNotifications',
  'installExtensions',
  'parseInt8',
  'extensions',
  // @nestjs/typeorm
  'autoLoadEntities',
  'retryAttempts',
  'retryDelay',
  'toRetry',
  'verboseRetryLog',
  'manualInitialization',
] as const satisfies readonly (keyof SharedTypeOrmOptions | TypeOrm1OnlyKey)[];

/** Fails to compile, naming the key, when SharedTypeOrmOptions has a key the list above lacks: add it there. */
type EveryKeyListed<Unlisted extends never> = Unlisted;
export type TypeOrmOptionKeysAreComplete = EveryKeyListed<Exclude<keyof SharedTypeOrmOptions, (typeof TYPEORM_OPTION_KEYS)[number]>>;

/** Keys nestjs-pindb sets itself from the sets option. */
const OWNED_KEYS: readonly string[] = ['replication', 'name', ...SERVER_KEYS];

/**
 * pg settings in `extra` that choose the server: TypeORM spreads `extra` over each pool's own
 * settings, so one of these would send every pool of the set (primary and replicas) to one server.
 */
export const EXTRA_CONNECTION_KEYS = ['host', 'port', 'user', 'username', 'password', 'database', 'connectionString', 'stream'] as const satisfies readonly (
  keyof ClientConfig | 'username'
)[];

/** Checks `typeorm` (shared, or of one set at `where`) and returns it without `type`. */
export function checkTypeOrmOptions(input: unknown, where: string): SharedTypeOrmOptions {
  if (input === undefined) return {};
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new PinDbConfigError(`${where} must be an object of TypeORM postgres options, e.g. { entities: [Product], poolSize: 10 }.`);
  }
  const { type, ...rest } = input as Record<string, unknown>;
  if (type !== undefined && type !== 'postgres') {
    throw new PinDbConfigError(`${where}.type is "${String(type)}": nestjs-pindb routes PostgreSQL only; leave type out.`);
  }
  for (const key of Object.keys(rest)) {
    if (OWNED_KEYS.includes(key)) {
      throw new PinDbConfigError(
        `${where}.${key} is set by nestjs-pindb from the sets option: put servers in sets.<name>.primary / replicas, and leave ${key} out of typeorm.`,
      );
    }
    if (!(TYPEORM_OPTION_KEYS as readonly string[]).includes(key)) {
      throw new PinDbConfigError(
        `Unknown option ${where}.${key}${didYouMean(key, TYPEORM_OPTION_KEYS)}: typeorm takes TypeORM's postgres DataSource options and ` +
          "@nestjs/typeorm's (autoLoadEntities, retryAttempts, retryDelay, toRetry, verboseRetryLog, manualInitialization).",
      );
    }
  }
  checkExtra(rest.extra, `${where}.extra`);
  return rest as SharedTypeOrmOptions;
}

function checkExtra(extra: unknown, where: string): void {
  if (typeof extra !== 'object' || extra === null) return;
  for (const key of EXTRA_CONNECTION_KEYS) {
    if (key in extra) {
      throw new PinDbConfigError(
        `${where}.${key} would connect every pool of the set, replicas included, to one server: put servers in sets.<name>.primary / replicas ` +
          '(a replica names only what differs from its primary), and leave connection settings out of extra.',
      );
    }
  }
}
