import { DynamicModule, MiddlewareConsumer, Module, NestModule, RequestMethod } from '@nestjs/common';
import { ScheduleModule } from '@nestjs/schedule';
import { TypeOrmModule } from '@nestjs/typeorm';
import { PinDbModule } from '../lib/index.js';
import type { PgCluster } from '../lib/testing/index.js';
import { AdminModule } from './admin/admin.module.js';
import { ObservabilityModule } from './observability/observability.module.js';
import { Order } from './orders/order.entity.js';
import { OrdersController } from './orders/orders.controller.js';
import { Product } from './products/product.entity.js';
import { ProductsController } from './products/products.controller.js';
import { ProductsService } from './products/products.service.js';
import { RequestLogMiddleware } from './request-log.middleware.js';
import { LowStockReport } from './reports/low-stock.report.js';
import { PRIMARY_SERVERS } from './routing-summary.js';
import { User } from './users/user.entity.js';

@Module({})
export class AppModule implements NestModule {
  /** The servers come from the cluster main.ts started; in production they would come from config. */
  static forCluster(cluster: PgCluster): DynamicModule {
    return {
      module: AppModule,
      imports: [
        PinDbModule.forRoot({
          // One set, `default`: TypeORM's default DataSource. Replicas only name what differs
          // from the primary (here the port), as django-pindb's DATABASE_SETS.
          sets: {
            default: {
              primary: cluster.primary,
              replicas: cluster.replicas.map(({ port }) => ({ port })),
            },
          },
          // synchronize creates the tables at startup; use migrations in a real app.
          typeorm: { entities: [Product, User, Order], synchronize: true },
          // Signs the read-your-writes tokens (cookie pindb, header x-pindb-token). A real app sets
          // PINDB_SECRET, the same on every instance; this fallback is for the demo only.
          cookie: { secret: process.env.PINDB_SECRET ?? 'sample shop secret, not for production' },
          // PINDB_MODE=strict npm start: GET /products/:id/view then fails with UnpinnedWriteError.
          mode: process.env.PINDB_MODE === 'strict' ? 'strict' : 'greedy',
          // Each response says where its queries went, in devtools' Timing tab (or curl -i):
          // Server-Timing: pindb;desc="primary 0, replica 1, retries 0, fallbacks 0".
          serverTiming: true,
          // Prometheus metrics need no option: they are on because prom-client is installed.
        }),
        TypeOrmModule.forFeature([Product, User, Order]),
        // Cron jobs (sample/reports): each tick runs in its own pinning context.
        ScheduleModule.forRoot(),
        AdminModule,
        ObservabilityModule,
      ],
      controllers: [ProductsController, OrdersController],
      providers: [ProductsService, LowStockReport, { provide: PRIMARY_SERVERS, useValue: [`${cluster.primary.host}:${cluster.primary.port}`] }],
    };
  }

  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(RequestLogMiddleware).forRoutes({ path: '{*path}', method: RequestMethod.ALL });
  }
}
