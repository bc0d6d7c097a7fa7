/**
 * The app bench/pgpool.ts loads over pgpool-II: the routes of bench/failover-app.ts (GET /read)
 * and of bench/consistency-app.ts (a client's POST rows / GET latest), the same controllers, on one
 * plain TypeORM DataSource whose only server is pgpool (no `replication`: pgpool routes each query).
 * Each route answers `inet_server_port()`, which is the backend that ran the query, not pgpool's port.
 */
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { TypeOrmModule } from '@nestjs/typeorm';
import { BenchItem } from './bench-item.js';
import { BenchWrite, ClientsController } from './consistency-app.js';
import { FailoverController, OBSERVER, Observer } from './failover-app.js';
import { serveBenchWorker } from './worker.js';

export function servePgpoolApp(pgpoolPort: number): Promise<void> {
  @Module({
    imports: [
      TypeOrmModule.forRoot({
        type: 'postgres',
        host: '127.0.0.1',
        port: pgpoolPort,
        username: 'postgres',
        database: 'postgres',
        entities: [BenchItem, BenchWrite],
        retryAttempts: 0,
      }),
      TypeOrmModule.forFeature([BenchItem, BenchWrite]),
    ],
    controllers: [FailoverController, ClientsController],
    // No per-request routing stats and no health report: pgpool has its own (SHOW POOL_NODES).
    providers: [{ provide: OBSERVER, useValue: { stats: () => undefined, report: () => undefined } satisfies Observer }],
  })
  class PgpoolAppModule {}

  let app: Awaited<ReturnType<typeof NestFactory.create>>;
  serveBenchWorker({
    setup: async () => {
      // Silent, as bench/failover-app.ts's plain app: a failed request reaches the client as a 500 anyway.
      app = await NestFactory.create(PgpoolAppModule, { logger: false });
      await app.listen(0, '127.0.0.1');
      return { url: (await app.getUrl()).replace('[::1]', '127.0.0.1') };
    },
    stop: () => app.close(),
  });
  return Promise.resolve();
}
