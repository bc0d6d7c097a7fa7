import type { InjectionToken, ModuleMetadata, OptionalFactoryDependency, Type } from '@nestjs/common';
import type { PinDbModuleOptions } from './pin-db-module-options.js';

export interface PinDbOptionsFactory {
  createPinDbOptions(): PinDbModuleOptions | Promise<PinDbModuleOptions>;
}

export interface PinDbModuleAsyncOptions extends Pick<ModuleMetadata, 'imports'> {
  /**
   * The names of the sets the factory returns. Nest needs each DataSource's name before the factory
   * runs (as TypeOrmModule.forRootAsync needs `name`); bootstrap checks they match. Default: ['default']
   */
  sets?: string[];
  inject?: (InjectionToken | OptionalFactoryDependency)[];
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- as Nest's FactoryProvider: the injected values' types are the app's
  useFactory?: (...args: any[]) => PinDbModuleOptions | Promise<PinDbModuleOptions>;
  useClass?: Type<PinDbOptionsFactory>;
  useExisting?: Type<PinDbOptionsFactory>;
}
