import { DataSource, DataSourceOptions, ReplicationMode } from 'typeorm';
import { PinDbContext } from '../routing/pin-db.context.js';
import { RoutedTypeOrmOptions, SET_ROUTER, SetRouter } from '../routing/set-router.js';
import { RoutedPostgresDriver } from './routed-postgres-driver.js';

/**
 * A plain TypeORM DataSource whose replication defers to its set's router: its driver is a
 * RoutedPostgresDriver, and reads built by TypeORM (find*, query builders) take a read-mode runner
 * unless the context reads the set from its primary. Users keep TypeOrmModule.forFeature and
 * InjectRepository.
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
}

/** The `dataSourceFactory` given to @nestjs/typeorm for each set. */
export async function createRoutedDataSource(options?: DataSourceOptions): Promise<DataSource> {
  const { [SET_ROUTER]: router, ...typeormOptions } = options as RoutedTypeOrmOptions;
  if (!router) return new DataSource(typeormOptions);
  return new RoutedDataSource(typeormOptions, router);
}
