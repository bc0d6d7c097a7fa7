import type { PostgresDataSourceOptions as PostgresConnectionOptions } from 'typeorm/driver/postgres/PostgresDataSourceOptions.js';

/** How to reach one server: fields, or a `url` (postgres://user:password@host:port/database). */
export interface ServerOptions {
  url?: string;
  host?: string;
  port?: number;
  username?: string;
  password?: string;
  database?: string;
  ssl?: PostgresConnectionOptions['ssl'];
  applicationName?: string;
}

/** TypeORM postgres options that nestjs-pindb leaves to the user (it owns type, name and replication). */
export type SharedTypeOrmOptions = Omit<PostgresConnectionOptions, 'type' | 'name' | 'replication' | keyof ServerOptions> & {
  /** @nestjs/typeorm: add the entities of every `TypeOrmModule.forFeature([...], set)`. */
  autoLoadEntities?: boolean;
  /** @nestjs/typeorm: attempts to connect at bootstrap. */
  retryAttempts?: number;
  retryDelay?: number;
};

/** One primary and the replicas that stream from it: one TypeORM DataSource, named after the set. */
export interface DatabaseSetOptions {
  primary: ServerOptions;
  /** Each replica's options are merged over the primary's: `{ host: 'replica-1' }` is enough. Default: [] */
  replicas?: ServerOptions[];
  /** TypeORM options for this set only, over the shared `typeorm` options. */
  typeorm?: SharedTypeOrmOptions;
}

export type RoutingMode = 'greedy' | 'strict';
export type Consistency = 'lsn' | 'time';
export type ReplicaSelection = 'round-robin' | 'random' | 'least-busy';

/**
 * The options of `PinDbModule.forRoot()`. Only `sets` is required; every other field has the
 * default given in its comment.
 */
export class PinDbModuleOptions {
  /** The database sets by name; `default` is TypeORM's default DataSource. */
  sets!: Record<string, DatabaseSetOptions>;
  /** TypeORM postgres options shared by every set (entities, synchronize, migrations, logging, poolSize, …). Default: {} */
  typeorm?: SharedTypeOrmOptions = {};
  /** 'greedy': a write pins its set for the rest of the context. 'strict': a write to an unpinned set throws. Default: 'greedy' */
  mode?: RoutingMode = 'greedy';
  /** How a client's later requests see its writes: by WAL position ('lsn') or a pin window ('time'). Default: 'lsn' */
  consistency?: Consistency = 'lsn';
  /** time mode: the pin window; lsn mode: the most a token lives. Default: 15 */
  pinSeconds?: number = 15;
  /** How a replica is chosen for a read. Default: 'round-robin' */
  replicaSelection?: ReplicaSelection = 'round-robin';
  /** Which sets a request whose method is not GET, HEAD, OPTIONS or TRACE pins from its start: all (true), none (false) or these. Default: true */
  pinUnsafeMethods?: boolean | string[] = true;
  /** false: every query on the primary, nothing pinned (for your own tests). Default: true */
  enabled?: boolean = true;
}
