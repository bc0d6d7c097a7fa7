/**
 * The app bench/consistency.ts loads, one child process per variant: a write route and a read route
 * per simulated client, over PinDb (lsn or time tokens, in the signed cookie) or over plain TypeORM
 * `replication` (no stickiness at all). The wait… variants are lsn with a given replayWaitMs.
 */
import { Controller, Get, Module, Param, ParseIntPipe, Post } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { InjectRepository, TypeOrmModule } from '@nestjs/typeorm';
import { Column, Entity, PrimaryGeneratedColumn, Repository } from 'typeorm';
import type { PgCluster } from '../lib/testing/index.js';
import type { ClusterInfo } from './cluster-check.js';
import { serveBenchWorker } from './worker.js';

export type Variant = 'lsn' | 'time15' | 'time2' | 'plain' | WaitVariant;

/** lsn with replayWaitMs: 0 (no wait: a token no replica has replayed sends the read to the primary), 50, 200 or 500 ms. */
export type WaitVariant = 'wait0' | 'wait50' | 'wait200' | 'wait500';

export const WAIT_VARIANTS: WaitVariant[] = ['wait0', 'wait50', 'wait200', 'wait500'];

export const VARIANTS: Variant[] = ['lsn', 'time15', 'time2', 'plain', ...WAIT_VARIANTS];

/** The replayWaitMs of each wait… variant. */
export const REPLAY_WAIT_MS: Record<WaitVariant, number> = { wait0: 0, wait50: 50, wait200: 200, wait500: 500 };

export function isWaitVariant(variant: Variant): variant is WaitVariant {
  return variant in REPLAY_WAIT_MS;
}

export const LABELS: Record<Variant, string> = {
  lsn: 'lsn (PinDb default)',
  time15: 'time 15 s (pindb/multidb default)',
  time2: 'time 2 s (Rails default)',
  plain: 'no stickiness: plain TypeORM',
  wait0: 'lsn, replayWaitMs: 0',
  wait50: 'lsn, replayWaitMs: 50',
  wait200: 'lsn, replayWaitMs: 200',
  wait500: 'lsn, replayWaitMs: 500',
};

/** Time modes' pin window, in seconds. */
export const PIN_SECONDS: Partial<Record<Variant, number>> = { time15: 15, time2: 2 };

@Entity({ name: 'bench_write' })
export class BenchWrite {
  @PrimaryGeneratedColumn()
  id!: number;

  @Column()
  client!: number;
}

/** Creates bench_write on the primary (ids grow, so "my latest write is visible" is `max(id) >= its id`). */
export async function createBenchWrites(cluster: PgCluster): Promise<void> {
  await cluster.query('primary', 'CREATE TABLE bench_write (id serial PRIMARY KEY, client integer NOT NULL)');
  await cluster.query('primary', 'CREATE INDEX bench_write_client ON bench_write (client, id)');
  await cluster.waitForReplay();
}

@Controller('clients/:client')
export class ClientsController {
  constructor(@InjectRepository(BenchWrite) private readonly rows: Repository<BenchWrite>) {}

  /** A POST: PinDb pins it from its start, so the client leaves with a token. */
  @Post('rows')
  async write(@Param('client', ParseIntPipe) client: number): Promise<{ id: number }> {
    const result = await this.rows.insert({ client });
    return { id: Number(result.identifiers[0].id) };
  }

  /** The client's latest row as seen by whichever server answered, and that server's port. */
  @Get('latest')
  async latest(@Param('client', ParseIntPipe) client: number): Promise<{ id: number; port: number }> {
    const row = await this.rows
      .createQueryBuilder('w')
      .select('coalesce(max(w.id), 0)', 'id')
      .addSelect('inet_server_port()', 'port')
      .where('w.client = :client', { client })
      .getRawOne();
    return { id: Number(row.id), port: Number(row.port) };
  }
}

async function appModule(variant: Variant, cluster: ClusterInfo) {
  let database;
  if (variant === 'plain') {
    database = TypeOrmModule.forRoot({
      type: 'postgres',
      replication: { master: cluster.primary, slaves: cluster.replicas },
      entities: [BenchWrite],
      retryAttempts: 0,
    });
  } else {
    // Imported here, not at the top: the plain variant's process then never loads PinDb at all.
    const { PinDbModule } = await import('../lib/index.js');
    database = PinDbModule.forRoot({
      sets: { default: { primary: cluster.primary, replicas: cluster.replicas } },
      typeorm: { entities: [BenchWrite], retryAttempts: 0 },
      consistency: variant === 'lsn' || isWaitVariant(variant) ? 'lsn' : 'time',
      pinSeconds: PIN_SECONDS[variant] ?? 15,
      // lsn keeps the module's default; the wait… variants set theirs.
      ...(isWaitVariant(variant) ? { replayWaitMs: REPLAY_WAIT_MS[variant] } : {}),
      // The cookie only, as a browser carries it: each simulated client has its own jar.
      cookie: { secret: 'bench/consistency' },
      header: false,
    });
  }

  @Module({ imports: [database, TypeOrmModule.forFeature([BenchWrite])], controllers: [ClientsController] })
  class AppModule {}
  return AppModule;
}

/** The replay poll loop's loops started and polls made (each poll: one query per readable replica). */
export interface WatchCounts {
  loops: number;
  polls: number;
}

/** The child side: serves the app on a free loopback port; `cpu` reports this process's CPU time, `watch` the default set's replay polls so far. */
export function serveConsistencyApp(variant: Variant, cluster: ClusterInfo): Promise<void> {
  let app: Awaited<ReturnType<typeof NestFactory.create>>;
  serveBenchWorker({
    setup: async () => {
      app = await NestFactory.create(await appModule(variant, cluster), { logger: ['error'] });
      await app.listen(0, '127.0.0.1');
      return { url: (await app.getUrl()).replace('[::1]', '127.0.0.1') };
    },
    cpu: () => process.cpuUsage(),
    watch: async (): Promise<WatchCounts> => {
      if (variant === 'plain') return { loops: 0, polls: 0 };
      const { PinDbRouter } = await import('../lib/routing/pin-db.router.js');
      const { loops, polls } = app.get(PinDbRouter).forSet('default').replayWatch;
      return { loops, polls };
    },
    stop: () => app.close(),
  });
  return Promise.resolve();
}
