import type { DataSource, DataSourceOptions } from 'typeorm';
import type { IsolationLevel } from 'typeorm/driver/types/IsolationLevel.js';

/**
 * The types that differ between TypeORM 0.3 and 1.x, in one place.
 *
 * TypeORM's postgres DataSource options: `PostgresConnectionOptions` in 0.3, renamed
 * `PostgresDataSourceOptions` (at another path) in 1.x. Both majors export the DataSourceOptions
 * union, so the postgres member is taken from it: the same name compiles against either.
 */
export type PostgresDataSourceOptions = Extract<DataSourceOptions, { type: 'postgres' }>;

/**
 * The parameters of `DataSource.query()`: `any[]` in 0.3, `any[] | ObjectLiteral` in 1.x. Taken
 * from the installed DataSource, so that RoutedDataSource's override matches either.
 */
export type QueryParameters = Parameters<DataSource['query']>[1];

/**
 * TypeORM's isolation levels that PostgreSQL has (TypeORM's union also names SQL Server's
 * SNAPSHOT). The type is at the same path in 0.3 and 1.x.
 */
export type PostgresIsolationLevel = Exclude<IsolationLevel, 'SNAPSHOT'>;
