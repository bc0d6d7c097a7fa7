import { DynamicModule, Module } from '@nestjs/common';
import { PRIMARY_SERVERS } from './routing-summary.js';
import { ShopLog } from './shop-log.service.js';

/** ShopLog, and the primaries' `host:port` that routingSummary tells apart, for every module of the shop. */
@Module({})
export class ShopLogModule {
  static forPrimaries(primaries: string[]): DynamicModule {
    return {
      module: ShopLogModule,
      global: true,
      providers: [ShopLog, { provide: PRIMARY_SERVERS, useValue: primaries }],
      exports: [ShopLog, PRIMARY_SERVERS],
    };
  }
}
