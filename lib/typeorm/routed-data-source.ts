import { DataSource, DataSourceOptions } from 'typeorm';
import type { PostgresDriver } from 'typeorm/driver/postgres/PostgresDriver.js';
import { PinDbContext } from '../routing/pin-db.context.js';
import { RoutedTypeOrmOptions, SET_ROUTER, SetRouter } from '../routing/set-router.js';
import { routeReplicaConnections } from './replica-connection.js';
import { routeQueryRunner } from './routed-query-runner.js';

/**
 * The `dataSourceFactory` given to @nestjs/typeorm for each set: a plain TypeORM DataSource whose
 * replication defers to the set's router. Users keep TypeOrmModule.forFeature and InjectRepository.
 */
export async function createRoutedDataSource(options?: DataSourceOptions): Promise<DataSource> {
  const { [SET_ROUTER]: router, ...typeormOptions } = options as RoutedTypeOrmOptions;
  const dataSource = new DataSource(typeormOptions);
  if (router) installRouting(dataSource, router);
  return dataSource;
}

export function installRouting(dataSource: DataSource, router: SetRouter): void {
  // Reads built by TypeORM (find*, query builders) take a 'slave' runner unless told otherwise.
  dataSource.defaultReplicationModeForReads = () => (router.target(PinDbContext.current()) === 'primary' ? 'master' : 'slave');
  const driver = dataSource.driver as PostgresDriver;
  routeReplicaConnections(driver, router);
  const createQueryRunner = driver.createQueryRunner.bind(driver);
  driver.createQueryRunner = (mode) => routeQueryRunner(createQueryRunner(mode) as any, driver, router);
}
