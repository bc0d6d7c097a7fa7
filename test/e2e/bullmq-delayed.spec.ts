import { Logger, LoggerService } from '@nestjs/common';
import { Job } from 'bullmq';
import { Registry } from 'prom-client';
import { pinDbTokenOf } from '../../lib/bullmq/index.js';
import { PinDbContext } from '../../lib/routing/pin-db.context.js';
import { PinDbRouter } from '../../lib/routing/pin-db.router.js';
import { RoutingService } from '../../lib/index.js';
import type { PgCluster } from '../../lib/testing/index.js';
import { BullTestApp, counterValue, createBullTestApp, until } from '../support/bullmq-app.js';
import { NotesService, readPort } from '../support/probe.js';
import { pauseReplicas, resumeReplicas, testCluster } from '../support/test-cluster.js';
import { getDataSourceToken } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';

const DELAYS = 'bulltest_job_delays_total';

describe("@JobConsistency('delayed'): a job waits for a replica that has replayed its token rather than read the primary", () => {
  let cluster: PgCluster;
  let replicaPorts: number[];
  /** Put back as often as it takes (the bound is out of reach here), every 200 ms. */
  let patient: BullTestApp;
  const patientMetrics = new Registry();
  /** Put back twice at most. */
  let bounded: BullTestApp;
  const boundedMetrics = new Registry();
  const debugLines: string[] = [];

  beforeAll(async () => {
    cluster = await testCluster({ replicas: 2 });
    replicaPorts = cluster.replicas.map((replica) => replica.port);
    patient = await createBullTestApp(cluster, {
      pindb: { metrics: { registry: patientMetrics, prefix: 'bulltest_' } },
      bull: { delayMs: 200, maxDelays: 1000 },
    });
    bounded = await createBullTestApp(cluster, { pindb: { metrics: { registry: boundedMetrics, prefix: 'bulltest_' } }, bull: { delayMs: 100, maxDelays: 2 } });
    // Debug lines on (they are off in the other specs), the rest as quiet as before.
    const recorder: LoggerService = {
      log() {},
      warn() {},
      error: (message: unknown) => console.error(message),
      debug: (message: unknown) => debugLines.push(String(message)),
      // NestJS 10's Logger.overrideLogger(levels) calls it on the logger in place (afterAll).
      setLogLevels() {},
    };
    Logger.overrideLogger(['error', 'warn', 'debug']);
    Logger.overrideLogger(recorder);
  });
  afterAll(async () => {
    Logger.overrideLogger(['error']);
    await patient?.close();
    await bounded?.close();
    await cluster?.stop();
  });
  afterEach(() => resumeReplicas(cluster));

  const delaysOf = (job: Job) => job.attemptsStarted - 1;

  it('is put back while no replica has replayed its token (each time counted in job_delays_total and logged at debug); after the replicas resume it reads one, and sees the row', async () => {
    const before = await counterValue(patientMetrics, DELAYS, { queue: 'delayed' });
    expect(patientMetrics.getSingleMetric(DELAYS)).toBeDefined(); // the series is there from the start, at 0
    await pauseReplicas(cluster);
    const { body } = await patient.app.post('/jobs/delayed');
    const id: string = body.jobIds[0];
    await until(async () => (await counterValue(patientMetrics, DELAYS, { queue: 'delayed' })) - before >= 2);
    const waiting = (await Job.fromId(patient.queue('delayed'), id))!;
    expect(await waiting.getState()).toMatch(/^(delayed|waiting|active)$/);
    expect(waiting.data).toEqual({ noteId: body.noteId }); // the count is not kept in the user's data
    await resumeReplicas(cluster);
    const { value, job } = await patient.finished('delayed', id);
    expect(value).toMatchObject({ found: true, token: true, pinned: false });
    expect(replicaPorts).toContain(value.port);
    expect(delaysOf(job)).toBeGreaterThanOrEqual(2);
    expect((await counterValue(patientMetrics, DELAYS, { queue: 'delayed' })) - before).toBe(delaysOf(job));
    const logged = debugLines.filter((line) => line.startsWith(`queue delayed: job ${id} put back for 200 ms`));
    expect(logged).toHaveLength(delaysOf(job));
    expect(logged[0]).toBe(`queue delayed: job ${id} put back for 200 ms (1 of at most 1000): no readable replica has replayed its read-your-writes token yet`);
  });

  it('once put back maxDelays times, it runs as sticky: on the primary, seeing the row', async () => {
    const before = await counterValue(boundedMetrics, DELAYS, { queue: 'delayed' });
    await pauseReplicas(cluster);
    const { body } = await bounded.app.post('/jobs/delayed');
    const { value, job } = await bounded.finished('delayed', body.jobIds[0]);
    expect(value).toMatchObject({ port: cluster.primary.port, found: true, token: true, pinned: false });
    expect(delaysOf(job)).toBe(2);
    expect((await counterValue(boundedMetrics, DELAYS, { queue: 'delayed' })) - before).toBe(2);
  });

  it('a job that carries no token runs at once, on a replica', async () => {
    await pauseReplicas(cluster);
    const { body } = await bounded.app.get('/jobs/delayed/after-read');
    const { value, job } = await bounded.finished('delayed', body.jobIds[0]);
    expect(value).toMatchObject({ token: false });
    expect(replicaPorts).toContain(value.port);
    expect(delaysOf(job)).toBe(0);
    expect(pinDbTokenOf(job)).toBeUndefined();
  });

  it('routing: PinDbRouter.waitsForReplay says whether a context with a token would wait for the replicas, and its next read then goes to the primary', async () => {
    const context = patient.app.app;
    const router = context.get(PinDbRouter);
    const routing = context.get(RoutingService);
    const notes = context.get(NotesService);
    const dataSource = context.get<DataSource>(getDataSourceToken());
    await pauseReplicas(cluster);
    const token = await routing.run(async () => {
      await notes.write('for waitsForReplay');
      return routing.token();
    });
    expect(token).toBeDefined();
    const withToken = () =>
      PinDbContext.runWithToken(token, async () => ({ waits: await router.waitsForReplay(PinDbContext.current()!), port: await readPort(dataSource) }));
    expect(await withToken()).toEqual({ waits: true, port: cluster.primary.port });
    expect(await PinDbContext.runWithToken(undefined, () => router.waitsForReplay(PinDbContext.current()!))).toBe(false);
    await resumeReplicas(cluster);
    await cluster.waitForReplay();
    const after = await withToken();
    expect(after.waits).toBe(false);
    expect(replicaPorts).toContain(after.port);
  });
});
