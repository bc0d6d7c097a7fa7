/**
 * The app bench/failover.ts loads, one child process per run: GET /read reads one row through a
 * TypeORM query builder and says which server answered and, with PinDb, whether the read was
 * retried; GET /health-report is PinDb's health monitor's report, for the parent to time
 * exclusions and re-admissions. Over PinDb with default health options (maxLagBytes may be set),
 * or over plain TypeORM `replication`, which has neither retries nor a monitor. For the promote
 * scenario, also POST /write, and PinDb's set has `followPromotion: true`.
 */
import { Controller, Get, HttpCode, Inject, Module, Post, Query, ServiceUnavailableException, Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { InjectDataSource, InjectRepository, TypeOrmModule } from '@nestjs/typeorm';
import type { DataSource, Repository } from 'typeorm';
import type { SetHealthReport } from '../lib/index.js';
import { BenchItem, nthId } from './bench-item.js';
import type { ClusterInfo } from './cluster-check.js';
import { serveBenchWorker } from './worker.js';

export type FailoverVariant = 'pindb' | 'plain';
export const VARIANT_LABELS: Record<FailoverVariant, string> = { pindb: 'PinDb', plain: 'plain TypeORM' };

/**
 * The promote scenario's rows, one per POST /write, keyed by an id the client made. No unique
 * constraint on purpose: a write applied twice shows as two rows instead of failing the second time.
 */
export const WRITE_TABLE = 'failover_write';

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

@Controller()
export class FailoverWriteController {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /**
   * Inserts row `id` once, on whichever server takes the set's writes; says which one did. A failure
   * answers 503 naming the error and its cause: an HttpException, so Nest does not log a stack for
   * each of the hundreds that fail while the primary is gone.
   */
  @Post('write')
  @HttpCode(200)
  async write(@Query('id') id: string): Promise<ReadAnswer> {
    try {
      const [row] = await this.dataSource.query<{ port: number }[]>(`INSERT INTO ${WRITE_TABLE} (id) VALUES ($1) RETURNING inet_server_port() AS port`, [id]);
      return { port: Number(row.port) };
    } catch (error) {
      const { name, message, cause } = error as Error;
      throw new ServiceUnavailableException(`${name}: ${cause instanceof Error ? cause.message : message}`);
    }
  }
}

/** `promotion`: the promote scenario's app (POST /write; PinDb follows the promotion). */
export async function appModule(variant: FailoverVariant, cluster: ClusterInfo, maxLagBytes: number | undefined, promotion = false): Promise<Type> {
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
      sets: { default: { primary: cluster.primary, replicas: cluster.replicas, followPromotion: promotion } },
      typeorm: { entities: [BenchItem], retryAttempts: 0 },
      // The defaults, but for the lag scenario's small byte limit.
      health: maxLagBytes === undefined ? {} : { maxLagBytes },
      metrics: false,
      // A fixed secret only to keep the log quiet: GETs never write, and the tokens POST /write hands out are not sent back.
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

  const controllers = promotion ? [FailoverController, FailoverWriteController] : [FailoverController];
  @Module({ imports: [database, TypeOrmModule.forFeature([BenchItem])], controllers, providers: [observer] })
  class AppModule {}
  return AppModule;
}

/** The child side: serves the app on a free loopback port. `maxLagBytes` is '' for the default. */
export function serveFailoverApp(variant: FailoverVariant, cluster: ClusterInfo, maxLagBytes: string, promotion = false): Promise<void> {
  let app: Awaited<ReturnType<typeof NestFactory.create>>;
  serveBenchWorker({
    setup: async () => {
      // PinDb's warnings say when a replica goes down or lags. The plain app stays silent: it would
      // log each of its thousands of failed requests with a stack (Nest has no level for "warn but
      // not error"), and a failure to start reaches the parent anyway.
      const logger = variant === 'plain' ? false : (['error', 'warn'] as ('error' | 'warn')[]);
      app = await NestFactory.create(await appModule(variant, cluster, maxLagBytes ? Number(maxLagBytes) : undefined, promotion), { logger });
      await app.listen(0, '127.0.0.1');
      return { url: (await app.getUrl()).replace('[::1]', '127.0.0.1') };
    },
    stop: () => app.close(),
  });
  return Promise.resolve();
}
