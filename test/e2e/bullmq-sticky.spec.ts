import { BullModule } from '@nestjs/bullmq';
import { Queue, Worker } from 'bullmq';
import { PinDbBullModule, PinDbQueue, PinDbWorker, pinDbTokenOf, PINDB_TOKEN_OPTION } from '../../lib/bullmq/index.js';
import { PinDbConfigError } from '../../lib/index.js';
import type { PgCluster } from '../../lib/testing/index.js';
import { bullConnection, BullTestApp, createBullTestApp, JobRead, StickyReader } from '../support/bullmq-app.js';
import { NotesService } from '../support/probe.js';
import { compileTestModule } from '../support/test-app.js';
import { pauseReplicas, resumeReplicas, testCluster } from '../support/test-cluster.js';
import { testRedis, uniquePrefix } from '../support/test-redis.js';

describe('nestjs-pindb/bullmq: a job carries the read-your-writes token of the context that added it', () => {
  let cluster: PgCluster;
  let bull: BullTestApp;
  let replicaPorts: number[];

  beforeAll(async () => {
    cluster = await testCluster({ replicas: 2 });
    replicaPorts = cluster.replicas.map((replica) => replica.port);
    bull = await createBullTestApp(cluster);
  });
  afterAll(async () => {
    await bull?.close();
    await cluster?.stop();
  });
  afterEach(() => resumeReplicas(cluster));

  const finishedAll = (ids: string[]) => Promise.all(ids.map(async (id) => (await bull.finished('sticky', id)).value));

  it('a request writes then adds a job: the job reads the write from the primary while the replicas have not replayed it; the token is in the options, not the data', async () => {
    await pauseReplicas(cluster);
    const { status, body } = await bull.app.post('/jobs/sticky', { extra: { orderId: 7 } });
    expect(status).toBe(201);
    const { value, job } = await bull.finished('sticky', body.jobIds[0]);
    expect(value).toEqual({ port: cluster.primary.port, found: true, token: true, pinned: false, data: { noteId: body.noteId, orderId: 7 } });
    // Read back from Redis: the token went there and back in the job's options; the data is the user's alone.
    expect(job.data).toEqual({ noteId: body.noteId, orderId: 7 });
    expect(pinDbTokenOf(job)).toMatch(/^v1\./);
    const redis = testRedis();
    try {
      const stored = await redis.hget(`${bull.prefix}:sticky:${job.id}`, 'opts');
      expect(JSON.parse(stored!)).toHaveProperty(PINDB_TOKEN_OPTION, pinDbTokenOf(job));
      expect(JSON.parse((await redis.hget(`${bull.prefix}:sticky:${job.id}`, 'data'))!)).toEqual({ noteId: body.noteId, orderId: 7 });
    } finally {
      await redis.quit();
    }
  });

  it('a job added after a request that only read carries nothing and reads a replica', async () => {
    const { body } = await bull.app.get('/jobs/sticky/after-read');
    expect(replicaPorts).toContain(body.port);
    const { value, job } = await bull.finished('sticky', body.jobIds[0]);
    expect(value).toMatchObject({ token: false, pinned: false });
    expect(replicaPorts).toContain(value.port);
    expect(pinDbTokenOf(job)).toBeUndefined();
  });

  it('a job added outside any context carries nothing: it reads a paused replica, which lacks the row', async () => {
    await pauseReplicas(cluster);
    const [{ id }] = await cluster.query<{ id: number }>('primary', "INSERT INTO note (text) VALUES ('outside any context') RETURNING id");
    const added = await bull.queue('sticky').add('read', { noteId: id });
    const { value, job } = await bull.finished('sticky', added.id!);
    expect(value).toMatchObject({ found: false, token: false });
    expect(replicaPorts).toContain(value.port);
    expect(job.opts).not.toHaveProperty(PINDB_TOKEN_OPTION);
  });

  it('Queue.addBulk: every job carries the token', async () => {
    await pauseReplicas(cluster);
    const { body } = await bull.app.post('/jobs/sticky/bulk');
    expect(body.jobIds).toHaveLength(3);
    for (const value of await finishedAll(body.jobIds)) expect(value).toMatchObject({ port: cluster.primary.port, found: true, token: true });
  });

  it('FlowProducer.add: the parent, the children and the grandchild carry the token', async () => {
    await pauseReplicas(cluster);
    const { body } = await bull.app.post('/flows/tree');
    expect(body.jobIds).toHaveLength(4);
    const values = await finishedAll(body.jobIds);
    for (const value of values) expect(value).toMatchObject({ port: cluster.primary.port, found: true, token: true });
  });

  it('FlowProducer.addBulk: every flow carries the token', async () => {
    await pauseReplicas(cluster);
    const { body } = await bull.app.post('/flows/bulk');
    expect(body.jobIds).toHaveLength(2);
    for (const value of await finishedAll(body.jobIds)) expect(value).toMatchObject({ port: cluster.primary.port, found: true, token: true });
  });

  it("a job added from inside another job's context carries that context's token", async () => {
    await pauseReplicas(cluster);
    const { body } = await bull.app.post('/jobs/chained');
    const { value: first } = await bull.finished<JobRead & { next: string }>('chained', body.jobIds[0]);
    expect(first).toMatchObject({ port: cluster.primary.port, found: true, token: true });
    const { value: second, job } = await bull.finished('sticky', first.next);
    expect(second).toMatchObject({ port: cluster.primary.port, found: true, token: true });
    expect(pinDbTokenOf(job)).toMatch(/^v1\./);
  });

  it("@JobConsistency('always'): the job reads the primary and is pinned, even when it carries nothing", async () => {
    const { body } = await bull.app.get('/jobs/always/after-read');
    const { value } = await bull.finished('always', body.jobIds[0]);
    expect(value).toMatchObject({ port: cluster.primary.port, pinned: true, token: false });
  });
});

describe('nestjs-pindb/bullmq: a plain BullMQ class fails the bootstrap, saying how to fix it', () => {
  let cluster: PgCluster;
  beforeAll(async () => {
    cluster = await testCluster({ replicas: 1 });
  });
  afterAll(() => cluster?.stop());

  async function bootstrapError(imports: any[], providers: any[] = []): Promise<unknown> {
    const moduleRef = await compileTestModule({
      cluster,
      imports: [BullModule.forRoot({ connection: bullConnection(), prefix: uniquePrefix('bullmq-plain').slice(0, -1) }), ...imports, PinDbBullModule],
      providers,
    });
    moduleRef.useLogger(false);
    try {
      await moduleRef.init();
    } catch (error) {
      return error;
    } finally {
      // NestJS 10's close() first awaits the failed init, and so rethrows its error: the error is the init's.
      await moduleRef.close().catch(() => undefined);
    }
    return undefined;
  }

  it('a queue registered while BullModule.queueClass was the plain Queue', async () => {
    BullModule.queueClass = Queue;
    let plain;
    try {
      plain = BullModule.registerQueue({ name: 'plain' });
    } finally {
      BullModule.queueClass = PinDbQueue;
    }
    const error = await bootstrapError([plain]);
    expect(error).toBeInstanceOf(PinDbConfigError);
    expect((error as Error).message).toMatch(
      /The BullMQ queue "plain" is a plain Queue, so its jobs would carry no read-your-writes token: import 'nestjs-pindb\/bullmq' before the modules that call BullModule\.registerQueue/,
    );
  });

  it('a processor whose worker was made while BullModule.workerClass was the plain Worker', async () => {
    BullModule.workerClass = Worker;
    try {
      const error = await bootstrapError([BullModule.registerQueue({ name: 'sticky' })], [NotesService, StickyReader]);
      expect(error).toBeInstanceOf(PinDbConfigError);
      expect((error as Error).message).toMatch(/The worker of StickyReader \(queue "sticky"\) is a plain Worker.*Set it to PinDbWorker/);
    } finally {
      BullModule.workerClass = PinDbWorker;
    }
  });
});
