/**
 * The app bench/consistency.ts loads, one child process per variant: a write route and a read route
 * per simulated client, over PinDb (lsn or time tokens, in the signed cookie) or over plain TypeORM
 * `replication` (no stickiness at all).
 */
import { Controller, Get, Module, Param, ParseIntPipe, Post } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { InjectRepository, TypeOrmModule } from '@nestjs/typeorm';
import { Column, Entity, PrimaryGeneratedColumn, Repository } from 'typeorm';
import type { PgCluster } from '../lib/testing/index.js';
import type { ClusterInfo } from './cluster-check.js';
import { serveBenchWorker } from './worker.js';

export type Variant = 'lsn' | 'time15' | 'time2' | 'plain';

export const VARIANTS: Variant[] = ['lsn', 'time15', 'time2', 'plain'];

export const LABELS: Record<Variant, string> = {
  lsn: 'lsn (PinDb default)',
  time15: 'time 15 s (pindb/multidb default)',
  time2: 'time 2 s (Rails default)',
  plain: 'no stickiness: plain TypeORM',
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
class ClientsController {
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
      consistency: variant === 'lsn' ? 'lsn' : 'time',
      pinSeconds: PIN_SECONDS[variant] ?? 15,
      // The cookie only, as a browser carries it: each simulated client has its own jar.
      cookie: { secret: 'bench/consistency' },
      header: false,
    });
  }

  @Module({ imports: [database, TypeOrmModule.forFeature([BenchWrite])], controllers: [ClientsController] })
  class AppModule {}
  return AppModule;
}

/** The child side: serves the app on a free loopback port; `cpu` reports this process's CPU time. */
export function serveConsistencyApp(variant: Variant, cluster: ClusterInfo): Promise<void> {
  let app: Awaited<ReturnType<typeof NestFactory.create>>;
  serveBenchWorker({
    setup: async () => {
      app = await NestFactory.create(await appModule(variant, cluster), { logger: ['error'] });
      await app.listen(0, '127.0.0.1');
      return { url: (await app.getUrl()).replace('[::1]', '127.0.0.1') };
    },
    cpu: () => process.cpuUsage(),
    stop: () => app.close(),
  });
  return Promise.resolve();
}
