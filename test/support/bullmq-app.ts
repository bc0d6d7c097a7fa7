import { Body, Controller, Get, Param, Post } from '@nestjs/common';
import { BullModule, getQueueToken, InjectFlowProducer, InjectQueue, Processor, WorkerHost } from '@nestjs/bullmq';
import { InjectDataSource } from '@nestjs/typeorm';
import { FlowProducer, Job, Queue } from 'bullmq';
import { DataSource } from 'typeorm';
import { JobConsistency, PinDbBullModule, PinDbBullOptions, pinDbTokenOf } from '../../lib/bullmq/index.js';
import { RoutingService } from '../../lib/index.js';
import type { PgCluster } from '../../lib/testing/index.js';
import { NotesService, readPort } from './probe.js';
import { createTestApp, TestApp, TestAppOptions } from './test-app.js';
import { TEST_REDIS_URL, testRedis, uniquePrefix, deleteKeys } from './test-redis.js';

/** The queues of the bullmq specs (each spec has its own Redis key prefix, so the names can repeat). */
export const QUEUES = ['sticky', 'always', 'delayed', 'chained'] as const;
export type QueueName = (typeof QUEUES)[number];

/** What a job saw: which server answered its read, whether the note it was given was there, and its context. */
export interface JobRead {
  port: number;
  found: boolean;
  /** The job carried a read-your-writes token (in its options). */
  token: boolean;
  pinned: boolean;
  /** The job's data as the processor got it. */
  data: Record<string, unknown>;
}

/** One query, through TypeORM's query builder (so it is routed): the answering server, and whether note `id` is there. */
export async function readNote(dataSource: DataSource, id: number): Promise<{ port: number; found: boolean }> {
  const row = await dataSource
    .createQueryBuilder()
    .select('inet_server_port()', 'port')
    .addSelect('EXISTS (SELECT 1 FROM note WHERE id = :id)', 'found')
    .setParameter('id', id)
    .fromDummy()
    .getRawOne();
  return { port: Number(row.port), found: row.found === true };
}

/** Reads the note in job.data.noteId and says where, and with what context, it ran. */
abstract class NoteReader extends WorkerHost {
  constructor(
    protected readonly dataSource: DataSource,
    protected readonly routing: RoutingService,
  ) {
    super();
  }

  async process(job: Job): Promise<JobRead> {
    const read = await readNote(this.dataSource, Number(job.data.noteId ?? 0));
    return { ...read, token: pinDbTokenOf(job) !== undefined, pinned: this.routing.isPinned(), data: job.data };
  }
}

@Processor('sticky')
export class StickyReader extends NoteReader {
  constructor(@InjectDataSource() dataSource: DataSource, routing: RoutingService) {
    super(dataSource, routing);
  }
}

@Processor('always')
@JobConsistency('always')
export class AlwaysReader extends NoteReader {
  constructor(@InjectDataSource() dataSource: DataSource, routing: RoutingService) {
    super(dataSource, routing);
  }
}

@Processor('delayed')
@JobConsistency('delayed')
export class DelayedReader extends NoteReader {
  constructor(@InjectDataSource() dataSource: DataSource, routing: RoutingService) {
    super(dataSource, routing);
  }
}

/** Reads, then adds a 'sticky' job for the same note from inside its own context: that job carries this job's token. */
@Processor('chained')
export class ChainedReader extends NoteReader {
  constructor(
    @InjectDataSource() dataSource: DataSource,
    routing: RoutingService,
    @InjectQueue('sticky') private readonly sticky: Queue,
  ) {
    super(dataSource, routing);
  }

  override async process(job: Job): Promise<JobRead & { next: string }> {
    const read = await super.process(job);
    const next = await this.sticky.add('read', { noteId: job.data.noteId });
    return { ...read, next: next.id! };
  }
}

/** Requests that write a note (or only read) and then enqueue jobs that read it. */
@Controller('jobs')
export class JobsController {
  constructor(
    private readonly notes: NotesService,
    @InjectDataSource() private readonly dataSource: DataSource,
    @InjectQueue('sticky') private readonly sticky: Queue,
    @InjectQueue('always') private readonly always: Queue,
    @InjectQueue('delayed') private readonly delayed: Queue,
    @InjectQueue('chained') private readonly chained: Queue,
  ) {}

  private queue(name: string): Queue {
    const queues: Record<string, Queue> = { sticky: this.sticky, always: this.always, delayed: this.delayed, chained: this.chained };
    return queues[name];
  }

  /** A POST (pinned from its start) that writes a note, then adds one job to `queue` that reads it. */
  @Post(':queue')
  async writeThenAdd(@Param('queue') queue: string, @Body() body: { extra?: Record<string, unknown> }) {
    const note = await this.notes.write('for a job');
    const job = await this.queue(queue).add('read', { noteId: note.id, ...body.extra });
    return { noteId: note.id, jobIds: [job.id] };
  }

  /** A GET that only reads (on a replica, not pinned), then adds a job: there is nothing for it to carry. */
  @Get(':queue/after-read')
  async readThenAdd(@Param('queue') queue: string) {
    const port = await readPort(this.dataSource);
    const job = await this.queue(queue).add('read', { noteId: 0 });
    return { port, jobIds: [job.id] };
  }

  @Post(':queue/bulk')
  async writeThenAddBulk(@Param('queue') queue: string) {
    const note = await this.notes.write('for jobs');
    const jobs = await this.queue(queue).addBulk([1, 2, 3].map((n) => ({ name: 'read', data: { noteId: note.id, n } })));
    return { noteId: note.id, jobIds: jobs.map((job) => job.id) };
  }
}

/** Requests that write a note, then add a flow whose jobs read it. */
@Controller('flows')
export class FlowsController {
  constructor(
    private readonly notes: NotesService,
    @InjectFlowProducer('flows') private readonly flows: FlowProducer,
  ) {}

  /** A flow: a 'sticky' parent with two 'sticky' children and a grandchild, all reading the note. */
  @Post('tree')
  async writeThenAddFlow() {
    const note = await this.notes.write('for a flow');
    const data = { noteId: note.id };
    const node = await this.flows.add({
      name: 'parent',
      queueName: 'sticky',
      data,
      children: [
        { name: 'child', queueName: 'sticky', data, children: [{ name: 'grandchild', queueName: 'sticky', data }] },
        { name: 'child', queueName: 'sticky', data },
      ],
    });
    const ids: string[] = [];
    const walk = (n: typeof node) => {
      ids.push(n.job.id!);
      for (const child of n.children ?? []) walk(child);
    };
    walk(node);
    return { noteId: note.id, jobIds: ids };
  }

  /** addBulk of flows: two single-job flows. */
  @Post('bulk')
  async writeThenAddFlows() {
    const note = await this.notes.write('for flows');
    const nodes = await this.flows.addBulk([1, 2].map((n) => ({ name: 'root', queueName: 'sticky', data: { noteId: note.id, n } })));
    return { noteId: note.id, jobIds: nodes.map((n) => n.job.id) };
  }
}

export interface BullTestApp {
  app: TestApp;
  prefix: string;
  queue(name: QueueName): Queue;
  /** Waits until the job has finished and returns what its processor returned (and the job, reloaded). */
  finished<T = JobRead>(queue: QueueName, id: string): Promise<{ value: T; job: Job }>;
  close(): Promise<void>;
}

/** The connection of the test Redis, as BullMQ takes it. */
export function bullConnection(): { host: string; port: number } {
  const url = new URL(TEST_REDIS_URL);
  return { host: url.hostname, port: Number(url.port || 6379) };
}

/**
 * An HTTP app over the cluster with BullModule (its own Redis key prefix), the queues above with
 * their processors, a flow producer and PinDbBullModule.
 */
export async function createBullTestApp(
  cluster: PgCluster,
  { bull, ...options }: Partial<Omit<TestAppOptions, 'cluster'>> & { bull?: PinDbBullOptions } = {},
): Promise<BullTestApp> {
  const prefix = uniquePrefix('bullmq').slice(0, -1);
  const connection = bullConnection();
  const app = await createTestApp({
    platform: 'express',
    cluster,
    ...options,
    imports: [
      BullModule.forRoot({ connection, prefix }),
      BullModule.registerQueue(...QUEUES.map((name) => ({ name }))),
      BullModule.registerFlowProducer({ name: 'flows' }),
      PinDbBullModule.forRoot(bull),
      ...(options.imports ?? []),
    ],
    controllers: [JobsController, FlowsController, ...(options.controllers ?? [])],
    providers: [NotesService, StickyReader, AlwaysReader, DelayedReader, ChainedReader, ...(options.providers ?? [])],
  });
  const queue = (name: QueueName) => app.app.get<Queue>(getQueueToken(name));
  return {
    app,
    prefix,
    queue,
    async finished<T>(name: QueueName, id: string) {
      // The job's state in Redis, polled: no event to miss between adding the job and listening for its end.
      let state = '';
      await until(async () => ['completed', 'failed'].includes((state = await queue(name).getJobState(id))));
      const job = (await Job.fromId(queue(name), id))!;
      if (state === 'failed') throw new Error(`job ${name} #${id} failed: ${job.failedReason}`);
      return { value: job.returnvalue as T, job };
    },
    async close() {
      await app.close();
      const redis = testRedis();
      await deleteKeys(redis, prefix);
      await redis.quit();
    },
  };
}

/** Resolves once `condition()` holds, checking every 20 ms (the test's timeout bounds the wait). */
export async function until(condition: () => Promise<boolean>): Promise<void> {
  while (!(await condition())) await new Promise((resolve) => setTimeout(resolve, 20));
}

/** The value of a counter's series in a prom-client registry (0 when absent). */
export async function counterValue(registry: { getSingleMetric(name: string): any }, name: string, labels: Record<string, string>): Promise<number> {
  const metric = registry.getSingleMetric(name);
  if (!metric) return 0;
  const { values } = (await metric.get()) as { values: { labels: Record<string, string>; value: number }[] };
  return values.find((value) => Object.entries(labels).every(([key, label]) => value.labels[key] === label))?.value ?? 0;
}
