/**
 * The app bench/failover.ts loads, one child process per run: GET /read reads one row through a
 * TypeORM query builder and says which server answered and, with PinDb, whether the read was
 * retried; GET /health-report is PinDb's health monitor's report, for the parent to time
 * exclusions and re-admissions. Over PinDb with default health options (maxLagBytes may be set),
 * or over plain TypeORM `replication`, which has neither retries nor a monitor.
 */
import { Controller, Get, Inject, Module, Query, Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { InjectRepository, TypeOrmModule } from '@nestjs/typeorm';
import type { Repository } from 'typeorm';
import type { SetHealthReport } from '../lib/index.js';
import { BenchItem, nthId } from './bench-item.js';
import type { ClusterInfo } from './cluster-check.js';
import { serveBenchWorker } from './worker.js';

export type FailoverVariant = 'pindb' | 'plain';

/** What GET /read answers. `retries` and `fallbacks` are PinDb's per-request stats (absent without PinDb). */
export interface ReadAnswer {
  port: number;
  retries?: number;
  fallbacks?: number;
}

/** Per-request stats and the health report, or nothing: injected so that the plain app never loads PinDb. */
export interface Observer {
  stats(): { retries: number; fallbacks: number } | undefined;
  report(): SetHealthReport[] | undefined;
}

export const OBSERVER = Symbol('failover observer');

@Controller()
export class FailoverController {
  constructor(
    @InjectRepository(BenchItem) private readonly items: Repository<BenchItem>,
    @Inject(OBSERVER) private readonly observer: Observer,
  ) {}

  @Get('read')
  async read(@Query('i') i?: string): Promise<ReadAnswer> {
    const row = await this.items
      .createQueryBuilder('item')
      .select('item.price', 'price')
      .addSelect('inet_server_port()', 'port')
      .where('item.id = :id', { id: nthId(Number(i ?? 0)) })
      .getRawOne<{ port: number }>();
    return { port: Number(row!.port), ...this.observer.stats() };
  }

  @Get('health-report')
  healthReport(): SetHealthReport[] | null {
    return this.observer.report() ?? null;
  }
}

export async function appModule(variant: FailoverVariant, cluster: ClusterInfo, maxLagBytes: number | undefined): Promise<Type> {
  let database;
  let observer;
  if (variant === 'plain') {
    database = TypeOrmModule.forRoot({
      type: 'postgres',
      replication: { master: cluster.primary, slaves: cluster.replicas },
      entities: [BenchItem],
      retryAttempts: 0,
    });
    observer = { provide: OBSERVER, useValue: { stats: () => undefined, report: () => undefined } satisfies Observer };
  } else {
    const { PinDbHealthMonitor, PinDbModule, RoutingService } = await import('../lib/index.js');
    database = PinDbModule.forRoot({
      sets: { default: { primary: cluster.primary, replicas: cluster.replicas } },
      typeorm: { entities: [BenchItem], retryAttempts: 0 },
      // The defaults, but for the lag scenario's small byte limit.
      health: maxLagBytes === undefined ? {} : { maxLagBytes },
      metrics: false,
      // A fixed secret only to keep the log quiet: these GETs never write, so no token is issued.
      cookie: { secret: 'bench/failover' },
    });
    observer = {
      provide: OBSERVER,
      inject: [RoutingService, PinDbHealthMonitor],
      useFactory: (routing: InstanceType<typeof RoutingService>, monitor: InstanceType<typeof PinDbHealthMonitor>): Observer => ({
        stats: () => {
          const stats = routing.stats().sets.default;
          return stats && { retries: stats.retries, fallbacks: stats.fallbacks };
        },
        report: () => monitor.report(),
      }),
    };
  }

  @Module({ imports: [database, TypeOrmModule.forFeature([BenchItem])], controllers: [FailoverController], providers: [observer] })
  class AppModule {}
  return AppModule;
}

/** The child side: serves the app on a free loopback port. `maxLagBytes` is '' for the default. */
export function serveFailoverApp(variant: FailoverVariant, cluster: ClusterInfo, maxLagBytes: string): Promise<void> {
  let app: Awaited<ReturnType<typeof NestFactory.create>>;
  serveBenchWorker({
    setup: async () => {
      // PinDb's warnings say when a replica goes down or lags. The plain app stays silent: it would
      // log each of its thousands of failed requests with a stack (Nest has no level for "warn but
      // not error"), and a failure to start reaches the parent anyway.
      const logger = variant === 'plain' ? false : (['error', 'warn'] as ('error' | 'warn')[]);
      app = await NestFactory.create(await appModule(variant, cluster, maxLagBytes ? Number(maxLagBytes) : undefined), { logger });
      await app.listen(0, '127.0.0.1');
      return { url: (await app.getUrl()).replace('[::1]', '127.0.0.1') };
    },
    stop: () => app.close(),
  });
  return Promise.resolve();
}
