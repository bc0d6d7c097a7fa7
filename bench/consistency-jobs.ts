/**
 * The job side of bench/consistency.ts: an app (one child process per variant) that writes a row
 * and right away adds a BullMQ job that reads it back, as an order confirmation would. Each job
 * says which server answered its read and whether the row was there.
 *
 * - job-sticky: PinDbBullModule; the job carries the writer's token by itself (default consistency);
 * - job-delayed: PinDbBullModule, @JobConsistency('delayed') with the default delay (1 s, 3 times);
 * - job-carried: no PinDbBullModule; the token by hand, `routing.token()` in the job's data and
 *   `@PinningContext({ token })` on the processor (what the README showed before nestjs-pindb/bullmq);
 * - job-none: no token at all (the baseline: reads on replicas, stale while they lag).
 */
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { BullModule, getQueueToken, Processor, WorkerHost } from '@nestjs/bullmq';
import { InjectDataSource, TypeOrmModule } from '@nestjs/typeorm';
import type { Job, Queue } from 'bullmq';
import { DataSource } from 'typeorm';
import { PinDbModule, PinningContext, RoutingService } from '../lib/index.js';
import { BenchWrite } from './consistency-app.js';
import type { ClusterInfo } from './cluster-check.js';
import { percentile } from './stats.js';
import { serveBenchWorker } from './worker.js';

export type JobVariant = 'job-sticky' | 'job-delayed' | 'job-carried' | 'job-none';

export const JOB_VARIANTS: JobVariant[] = ['job-sticky', 'job-delayed', 'job-carried', 'job-none'];

export const JOB_LABELS: Record<JobVariant, string> = {
  'job-sticky': "job, PinDbBullModule 'sticky' (default)",
  'job-delayed': "job, PinDbBullModule 'delayed' (1 s × 3)",
  'job-carried': 'job, token by hand (@PinningContext)',
  'job-none': 'job, no token',
};

export interface JobBurst {
  jobs: number;
  /** Jobs added per second (one write and one job each). */
  rate: number;
}

export interface JobRunResult {
  jobs: number;
  replicaReads: number;
  /** Jobs that did not see the row written right before they were added. */
  staleReads: number;
  /** Times jobs were put back for their token ('delayed'). */
  delays: number;
  /** From the job's creation to its completion, ms. */
  latencyP50: number;
  latencyP99: number;
  errors: number;
  firstError?: string;
}

interface JobData {
  id: number;
  pindbToken?: string;
}

interface JobAnswer {
  port: number;
  seen: boolean;
}

const QUEUE = 'bench-reads';
const REDIS_URL = new URL(process.env.BENCH_REDIS_URL ?? process.env.PINDB_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379');

async function readRow(dataSource: DataSource, id: number): Promise<JobAnswer> {
  const row = await dataSource
    .createQueryBuilder()
    .select('inet_server_port()', 'port')
    .addSelect('EXISTS (SELECT 1 FROM bench_write WHERE id = :id)', 'seen')
    .setParameter('id', id)
    .fromDummy()
    .getRawOne();
  return { port: Number(row.port), seen: row.seen === true };
}

/** Ten jobs at a time: a worker that never queues behind itself, so latency is the consistency's. */
const WORKER_OPTIONS = { concurrency: 10 };

@Processor(QUEUE, WORKER_OPTIONS)
class RowReader extends WorkerHost {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {
    super();
  }

  process(job: Job<JobData>): Promise<JobAnswer> {
    return readRow(this.dataSource, job.data.id);
  }
}

@Processor(QUEUE, WORKER_OPTIONS)
class CarriedRowReader extends WorkerHost {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {
    super();
  }

  @PinningContext({ token: (job: Job<JobData>) => job.data.pindbToken })
  process(job: Job<JobData>): Promise<JobAnswer> {
    return readRow(this.dataSource, job.data.id);
  }
}

/** Writes a row and adds the job that reads it, in one pinning context (as a request handler would). */
class Writer {
  constructor(
    private readonly variant: JobVariant,
    private readonly routing: RoutingService,
    private readonly dataSource: DataSource,
    private readonly queue: Queue<JobData>,
  ) {}

  add(client: number): Promise<void> {
    return this.routing.run(async () => {
      const result = await this.dataSource.getRepository(BenchWrite).insert({ client });
      const id = Number(result.identifiers[0].id);
      const data: JobData = { id };
      if (this.variant === 'job-carried') data.pindbToken = await this.routing.token();
      await this.queue.add('read', data);
    });
  }
}

async function appModule(variant: JobVariant, cluster: ClusterInfo, prefix: string) {
  const imports = [];
  let processor: typeof RowReader | typeof CarriedRowReader = RowReader;
  if (variant === 'job-sticky' || variant === 'job-delayed') {
    // Loaded before BullModule.registerQueue runs below, so that the queue and worker are PinDb's.
    const { PinDbBullModule, JobConsistency } = await import('../lib/bullmq/index.js');
    imports.push(PinDbBullModule);
    if (variant === 'job-delayed') JobConsistency('delayed')(RowReader);
  }
  if (variant === 'job-carried') processor = CarriedRowReader;

  @Module({
    imports: [
      PinDbModule.forRoot({
        sets: { default: { primary: cluster.primary, replicas: cluster.replicas } },
        typeorm: { entities: [BenchWrite], retryAttempts: 0 },
        cookie: { secret: 'bench/consistency' },
        metrics: false,
      }),
      TypeOrmModule.forFeature([BenchWrite]),
      BullModule.forRoot({ connection: { host: REDIS_URL.hostname, port: Number(REDIS_URL.port || 6379) }, prefix }),
      BullModule.registerQueue({ name: QUEUE }),
      ...imports,
    ],
    providers: [processor],
  })
  class JobsModule {}
  return { module: JobsModule, processor };
}

/** The child side: `burst` writes and adds jobs at `rate`, then waits for all of them and sums them up. */
export function serveJobsApp(variant: JobVariant, cluster: ClusterInfo): Promise<void> {
  const prefix = `pindb-bench-${process.pid}`;
  let app: Awaited<ReturnType<typeof NestFactory.createApplicationContext>>;
  let writer: Writer;
  let host: WorkerHost;
  let queue: Queue<JobData>;
  let nextClient = 1_000_000;
  serveBenchWorker({
    setup: async () => {
      const { module, processor } = await appModule(variant, cluster, prefix);
      app = await NestFactory.createApplicationContext(module, { logger: ['error'] });
      queue = app.get<Queue<JobData>>(getQueueToken(QUEUE));
      host = app.get(processor);
      writer = new Writer(variant, app.get(RoutingService), app.get(DataSource), queue);
      return {};
    },
    burst: async ({ jobs, rate }: JobBurst): Promise<JobRunResult> => {
      const result: JobRunResult = { jobs: 0, replicaReads: 0, staleReads: 0, delays: 0, latencyP50: 0, latencyP99: 0, errors: 0 };
      const replicaPorts = cluster.replicas.map((replica) => replica.port);
      const latencies: number[] = [];
      let settled = 0;
      let allSettled!: () => void;
      const done = new Promise<void>((resolve) => (allSettled = resolve));
      const settle = () => {
        if (++settled === jobs) allSettled();
      };
      const onCompleted = (job: Job<JobData>, answer: JobAnswer) => {
        result.jobs++;
        if (replicaPorts.includes(answer.port)) result.replicaReads++;
        if (!answer.seen) result.staleReads++;
        result.delays += Math.max(0, job.attemptsStarted - 1);
        latencies.push(Date.now() - job.timestamp);
        settle();
      };
      const onFailed = (_job: Job | undefined, error: Error) => {
        result.errors++;
        result.firstError ??= error.message;
        settle();
      };
      host.worker.on('completed', onCompleted);
      host.worker.on('failed', onFailed);
      const started = performance.now();
      for (let i = 0; i < jobs; i++) {
        const due = started + (i * 1000) / rate;
        const wait = due - performance.now();
        if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
        writer.add(nextClient++).catch((error: Error) => onFailed(undefined, error));
      }
      await done;
      host.worker.off('completed', onCompleted);
      host.worker.off('failed', onFailed);
      result.latencyP50 = latencies.length ? percentile(latencies, 50) : 0;
      result.latencyP99 = latencies.length ? percentile(latencies, 99) : 0;
      return result;
    },
    stop: async () => {
      await queue.obliterate({ force: true }).catch(() => undefined);
      await app.close();
    },
  });
  return Promise.resolve();
}
