import { DynamicModule, Module, Provider } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { PinDbConfigError } from './errors/pin-db-config.error.js';
import type { PinDbModuleAsyncOptions, PinDbOptionsFactory } from './options/pin-db-async-options.js';
import type { PinDbModuleOptions } from './options/pin-db-module-options.js';
import { resolvePinDbOptions } from './options/resolve-options.js';
import { DEFAULT_SET, PIN_DB_MODULE_OPTIONS } from './pin-db.constants.js';
import { PinDbCoreModule } from './pin-db-core.module.js';
import { PinDbRouter } from './routing/pin-db.router.js';
import { createRoutedDataSource } from './typeorm/routed-data-source.js';

/**
 * Import once, in AppModule. Registers one TypeORM DataSource per database set (named after the
 * set; `default` is TypeORM's default), the RoutingService, and the enhancers that give every
 * request its pinning context.
 */
@Module({})
export class PinDbModule {
  static forRoot(options: PinDbModuleOptions): DynamicModule {
    // Checked here too, so that a bad option fails where the module is declared.
    const sets = [...resolvePinDbOptions(options).sets.keys()];
    return {
      module: PinDbModule,
      imports: [PinDbCoreModule.forRoot([{ provide: PIN_DB_MODULE_OPTIONS, useValue: options }], sets), ...sets.map(setDataSourceModule)],
    };
  }

  static forRootAsync(options: PinDbModuleAsyncOptions): DynamicModule {
    const sets = options.sets ?? [DEFAULT_SET];
    if (!Array.isArray(sets) || sets.length === 0 || !sets.every((set) => typeof set === 'string' && set.length > 0)) {
      throw new PinDbConfigError(`PinDbModule.forRootAsync: sets must list the set names the factory returns, e.g. sets: ['default', 'analytics'].`);
    }
    return {
      module: PinDbModule,
      imports: [PinDbCoreModule.forRoot(asyncOptionsProviders(options), sets, options.imports), ...sets.map(setDataSourceModule)],
    };
  }
}

/** One TypeORM DataSource, through @nestjs/typeorm so that forFeature, InjectRepository and autoLoadEntities work as usual. */
function setDataSourceModule(set: string): DynamicModule {
  return TypeOrmModule.forRootAsync({
    name: set,
    inject: [PinDbRouter],
    useFactory: (router: PinDbRouter) => router.forSet(set).typeOrmOptions(),
    dataSourceFactory: createRoutedDataSource,
  });
}

function asyncOptionsProviders(options: PinDbModuleAsyncOptions): Provider[] {
  if (options.useFactory) {
    return [{ provide: PIN_DB_MODULE_OPTIONS, useFactory: options.useFactory, inject: options.inject ?? [] }];
  }
  const factoryClass = options.useClass ?? options.useExisting;
  if (!factoryClass) {
    throw new PinDbConfigError('PinDbModule.forRootAsync needs one of useFactory, useClass or useExisting.');
  }
  return [
    ...(options.useClass ? [{ provide: options.useClass, useClass: options.useClass }] : []),
    {
      provide: PIN_DB_MODULE_OPTIONS,
      useFactory: (factory: PinDbOptionsFactory) => factory.createPinDbOptions(),
      inject: [factoryClass],
    },
  ];
}
