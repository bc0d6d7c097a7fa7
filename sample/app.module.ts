import { DynamicModule, MiddlewareConsumer, Module, NestModule, RequestMethod, Type } from '@nestjs/common';
import { ApolloDriver, ApolloDriverConfig } from '@nestjs/apollo';
import { BullModule } from '@nestjs/bullmq';
import { GraphQLModule } from '@nestjs/graphql';
import { ScheduleModule } from '@nestjs/schedule';
import { TypeOrmModule } from '@nestjs/typeorm';
import { PinDbBullModule } from '../lib/bullmq/index.js';
import { PinDbModule } from '../lib/index.js';
import type { PgCluster } from '../lib/testing/index.js';
import { AdminModule } from './admin/admin.module.js';
import type { JobsOptions } from './jobs/jobs.options.js';
import { ObservabilityModule } from './observability/observability.module.js';
import { OrderJobsModule } from './orders/order-jobs.module.js';
import { Order } from './orders/order.entity.js';
import { OrdersController } from './orders/orders.controller.js';
import { Product } from './products/product.entity.js';
import { ProductsController } from './products/products.controller.js';
import { ProductsResolver } from './products/products.resolver.js';
import { ProductsService } from './products/products.service.js';
import { RequestLogMiddleware } from './request-log.middleware.js';
import { LowStockReport } from './reports/low-stock.report.js';
import { ShopLogModule } from './shop-log.module.js';
import { User } from './users/user.entity.js';

/** AppModule.forCluster(cluster, options). */
export interface ShopOptions {
  /** The Redis of the order confirmation jobs (BullMQ). Default: none, and the shop runs without them */
  jobs?: JobsOptions;
}

@Module({})
export class AppModule implements NestModule {
  /** The servers come from the cluster main.ts started; in production they would come from config. */
  static forCluster(cluster: PgCluster, { jobs }: ShopOptions = {}): DynamicModule {
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
        // POST /graphql (Apollo on Express, code-first: the schema is made from the resolvers, in
        // memory). PinDbModule needs nothing more: it routes each GraphQL request by what it sends.
        GraphQLModule.forRoot<ApolloDriverConfig>({ driver: ApolloDriver, autoSchemaFile: true }),
        // Cron jobs (sample/reports): each tick runs in its own pinning context.
        ScheduleModule.forRoot(),
        ...(jobs ? jobsModules(jobs) : []),
        ShopLogModule.forPrimaries([`${cluster.primary.host}:${cluster.primary.port}`]),
        AdminModule,
        ObservabilityModule,
      ],
      controllers: [ProductsController, OrdersController],
      providers: [ProductsService, ProductsResolver, LowStockReport],
    };
  }

  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(RequestLogMiddleware).forRoutes({ path: '{*path}', method: RequestMethod.ALL });
  }
}

/**
 * BullMQ, PinDb's side of it (jobs carry their context's token and run with it), and the order
 * confirmation queue with its processor.
 */
function jobsModules({ connection, prefix = 'pindb-sample' }: JobsOptions): (DynamicModule | Type)[] {
  return [BullModule.forRoot({ connection, prefix }), PinDbBullModule.forRoot(), OrderJobsModule];
}
