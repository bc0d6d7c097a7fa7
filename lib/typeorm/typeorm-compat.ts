import type { DataSourceOptions } from 'typeorm';

/**
 * The types that differ between TypeORM 0.3 and 1.x, in one place.
 *
 * TypeORM's postgres DataSource options: `PostgresConnectionOptions` in 0.3, renamed
 * `PostgresDataSourceOptions` (at another path) in 1.x. Both majors export the DataSourceOptions
 * union, so the postgres member is taken from it: the same name compiles against either.
 */
export type PostgresDataSourceOptions = Extract<DataSourceOptions, { type: 'postgres' }>;
