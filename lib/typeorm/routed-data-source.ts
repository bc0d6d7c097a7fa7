import { DataSource, DataSourceOptions, QueryRunner, ReplicationMode } from 'typeorm';
import { PinDbContext } from '../routing/pin-db.context.js';
import { RoutedTypeOrmOptions, SET_ROUTER, SetRouter } from '../routing/set-router.js';
import { RoutedPostgresDriver } from './routed-postgres-driver.js';
import type { QueryParameters } from './typeorm-compat.js';

/**
 * A plain TypeORM DataSource whose replication defers to its set's router: its driver is a
 * RoutedPostgresDriver, and reads built by TypeORM (find*, query builders) take a read-mode runner
 * unless the context reads the set from its primary; with `rawReads`, so do raw queries. Users keep
 * TypeOrmModule.forFeature and InjectRepository.
 */
export class RoutedDataSource extends DataSource {
  constructor(
    options: DataSourceOptions,
    readonly router: SetRouter,
  ) {
    super(options);
    // The driver DataSource's constructor made is dropped before it connected anything.
    this.driver = new RoutedPostgresDriver(this, router);
  }

  override defaultReplicationModeForReads(): ReplicationMode {
    return this.router.target(PinDbContext.current()) === 'primary' ? 'master' : 'slave';
  }

  /**
   * `rawReads`: a query given no runner gets one of the read mode, as TypeORM's reads do, and
   * released after it; that runner classifies the statement, so a write still pins the set and goes
   * to the primary. EntityManager.query() comes here too (both majors pass on the manager's runner,
   * if it has one), so the managers need no subclass. Without rawReads: TypeORM's query(), on the
   * primary.
   */
  override query<T = any>(query: string, parameters?: QueryParameters, queryRunner?: QueryRunner): Promise<T> {
    if (queryRunner || !this.router.options.rawReads) return super.query<T>(query, parameters, queryRunner);
    const runner = this.createQueryRunner(this.defaultReplicationModeForReads());
    return super.query<T>(query, parameters, runner).finally(() => runner.release());
  }
}

/** The `dataSourceFactory` given to @nestjs/typeorm for each set. */
export async function createRoutedDataSource(options?: DataSourceOptions): Promise<DataSource> {
  const { [SET_ROUTER]: router, ...typeormOptions } = options as RoutedTypeOrmOptions;
  if (!router) return new DataSource(typeormOptions);
  return new RoutedDataSource(typeormOptions, router);
}
