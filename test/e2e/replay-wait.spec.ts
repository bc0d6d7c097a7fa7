import { Registry } from 'prom-client';
import { REPLAY_POLL_TIMING } from '../../lib/routing/replay-watch.js';
import { PinDbRouter } from '../../lib/routing/pin-db.router.js';
import { NoteJobs, NotesController } from '../support/notes.controller.js';
import { NotesService } from '../support/probe.js';
import { clusterApp, createTestApp, TestApp } from '../support/test-app.js';
import { describeWithFaults, pauseReplicas, resumeReplicas } from '../support/test-cluster.js';

const SECRET = 'a test secret that is long enough';
const WAIT_MS = 500;

interface Answer {
  status: number;
  body: any;
  cookie?: string;
  serverTiming: string | null;
  ms: number;
}

/** One request; `cookie` goes with it, the pindb cookie it sets comes back. */
async function call(app: TestApp, method: 'GET' | 'POST', path: string, cookie?: string): Promise<Answer> {
  const t0 = performance.now();
  const response = await fetch(app.url + path, {
    method,
    headers: { 'content-type': 'application/json', ...(cookie ? { cookie } : {}) },
    body: method === 'POST' ? '{}' : undefined,
  });
  const body = (await response.json()) as any;
  const set = response.headers.getSetCookie().find((line) => line.startsWith('pindb='));
  return { status: response.status, body, cookie: set?.split(';')[0], serverTiming: response.headers.get('server-timing'), ms: performance.now() - t0 };
}

/** A write, and its client's token. */
async function write(app: TestApp): Promise<{ id: number; cookie: string }> {
  const created = await call(app, 'POST', '/notes');
  expect(created.status).toBe(201);
  expect(created.cookie).toMatch(/^pindb=.+/);
  return { id: created.body.id, cookie: created.cookie! };
}

/** How many waits the registry's replay_wait_seconds histogram counted, by outcome. */
async function waitCount(registry: Registry, outcome: 'replica' | 'primary'): Promise<number> {
  const text = await registry.metrics();
  const match = new RegExp(`^pindb_replay_wait_seconds_count\\{set="default",outcome="${outcome}"\\} (\\d+)$`, 'm').exec(text);
  return match ? Number(match[1]) : 0;
}

describeWithFaults('replayWaitMs: a read whose token no replica has replayed waits for one before it goes to the primary', () => {
  const registry = new Registry();
  const env = clusterApp('express', async (cluster) => {
    await Promise.all([0, 1].map((i) => cluster.setApplyDelay(i, 100)));
    return {
      pindb: { cookie: { secret: SECRET }, replayWaitMs: WAIT_MS, serverTiming: true, metrics: { registry } },
      controllers: [NotesController],
      providers: [NotesService, NoteJobs],
    };
  });
  let noWait: TestApp;
  let longWait: TestApp;
  beforeAll(async () => {
    await env.cluster.waitForReplay(); // the schema, made at startup
    const app = { cluster: env.cluster, controllers: [NotesController], providers: [NotesService, NoteJobs] };
    noWait = await createTestApp({ platform: 'express', ...app, pindb: { cookie: { secret: SECRET }, replayWaitMs: 0, metrics: false } });
    longWait = await createTestApp({ platform: 'express', ...app, pindb: { cookie: { secret: SECRET }, replayWaitMs: 20_000, metrics: false } });
  });
  afterAll(async () => {
    await noWait?.close();
    await longWait?.close();
  });
  const watchOf = (app: TestApp) => app.app.get(PinDbRouter).forSet('default').replayWatch;

  it('replicas 100 ms behind: the read right after the write waits for a replica, which serves it and sees the write', async () => {
    const waitedBefore = await waitCount(registry, 'replica');
    let waited = 0;
    // Five writes, each read back at once: a read sent after the replicas have replayed (a slow
    // machine) needs no wait, but it is served by a replica all the same.
    for (let i = 0; i < 5; i++) {
      const { id, cookie } = await write(env.app);
      const read = await call(env.app, 'GET', `/notes/${id}`, cookie);
      expect(read.status).toBe(200);
      expect(read.body.found).toBe(true);
      expect(env.replicaPorts).toContain(read.body.port);
      const stats = read.body.stats.sets.default;
      expect(stats.primary).toBe(0);
      expect(stats.replayWaits).toBeLessThanOrEqual(1);
      if (stats.replayWaits === 1) {
        waited++;
        expect(stats.replayWaitMs).toBeGreaterThan(0);
        expect(stats.replayWaitMs).toBeLessThan(WAIT_MS);
        expect(read.serverTiming).toMatch(/, pindb-replay-wait;dur=\d+\.\d$/);
      } else {
        expect(read.serverTiming).not.toContain('pindb-replay-wait');
      }
    }
    expect(waited).toBeGreaterThan(0);
    expect(await waitCount(registry, 'replica')).toBe(waitedBefore + waited);
  });

  it('replicas 3 s behind: the read waits replayWaitMs, then goes to the primary for the rest of the request, without waiting again', async () => {
    await Promise.all([0, 1].map((i) => env.cluster.setApplyDelay(i, 3000)));
    try {
      const primaryBefore = await waitCount(registry, 'primary');
      const { id, cookie } = await write(env.app);
      const read = await call(env.app, 'GET', `/notes/${id}`, cookie);
      expect(read.status).toBe(200);
      expect(read.body).toMatchObject({ found: true, port: env.cluster.primary.port });
      const stats = read.body.stats.sets.default;
      // Two reads (the note, then the port), one wait: the second read went straight to the primary.
      expect(stats).toMatchObject({ replica: 0, replayWaits: 1, fallbacks: 0 });
      expect(stats.primary).toBeGreaterThanOrEqual(2);
      expect(stats.replayWaitMs).toBeGreaterThanOrEqual(WAIT_MS - 50);
      expect(stats.replayWaitMs).toBeLessThan(2500);
      expect(read.ms).toBeGreaterThanOrEqual(WAIT_MS - 50);
      const dur = Number(/pindb-replay-wait;dur=([\d.]+)/.exec(read.serverTiming ?? '')?.[1]);
      expect(dur).toBeGreaterThanOrEqual(WAIT_MS - 50);
      expect(await waitCount(registry, 'primary')).toBe(primaryBefore + 1);
    } finally {
      await Promise.all([0, 1].map((i) => env.cluster.setApplyDelay(i, 100)));
      await env.cluster.waitForReplay();
    }
  });

  it('200 concurrent reads waiting for the same replay share one poll loop, and are all served by a replica once it has replayed', async () => {
    const watch = watchOf(longWait);
    await pauseReplicas(env.cluster);
    let resumed = false;
    try {
      const { id, cookie } = await write(longWait);
      const loops = watch.loops;
      const polls = watch.polls;
      const t0 = performance.now();
      const reads = Promise.all(Array.from({ length: 200 }, () => call(longWait, 'GET', `/notes/${id}`, cookie)));
      // Every request is waiting on the one loop (replay is paused: none can be satisfied yet).
      while (watch.waiting < 200) await new Promise((resolve) => setTimeout(resolve, 20));
      expect(watch.loops).toBe(loops + 1);
      await resumeReplicas(env.cluster);
      resumed = true;
      const answers = await reads;
      const elapsedMs = performance.now() - t0;

      expect(answers.map((answer) => answer.status)).toEqual(Array(200).fill(200));
      expect(answers.every((answer) => answer.body.found === true && env.replicaPorts.includes(answer.body.port))).toBe(true);
      expect(answers.every((answer) => answer.body.stats.sets.default.replayWaits === 1)).toBe(true);
      expect(watch.loops).toBe(loops + 1);
      expect(watch.waiting).toBe(0);
      // The polls of one loop backing off to its cap, not 200 loops' worth.
      expect(watch.polls - polls).toBeLessThanOrEqual(Math.ceil(elapsedMs / REPLAY_POLL_TIMING.maxDelayMs) + 10);
    } finally {
      if (!resumed) await resumeReplicas(env.cluster);
    }
  });

  it("replayWaitMs: 0 keeps the read from waiting: with the replicas behind, the client's read goes straight to the primary", async () => {
    await pauseReplicas(env.cluster);
    try {
      const { id, cookie } = await write(noWait);
      const read = await call(noWait, 'GET', `/notes/${id}`, cookie);
      expect(read.body).toMatchObject({ found: true, port: env.cluster.primary.port });
      expect(read.body.stats.sets.default).toMatchObject({ replica: 0, replayWaits: 0, replayWaitMs: 0 });
      expect(read.body.stats.sets.default.primary).toBeGreaterThanOrEqual(2);
      expect(watchOf(noWait).loops).toBe(0);
    } finally {
      await resumeReplicas(env.cluster);
    }
  });
});
