import { PinDbConfigError, RoutingService } from '../../lib/index.js';
import { PinDbRouter } from '../../lib/routing/pin-db.router.js';
import { NotesService } from '../support/probe.js';
import { clusterApp } from '../support/test-app.js';
import { describeWithFaults, pauseReplicas, resumeReplicas } from '../support/test-cluster.js';

describeWithFaults("routing.awaitReplication(): whether every replica has replayed the context's writes", () => {
  const env = clusterApp('express', async (cluster) => {
    await Promise.all([0, 1].map((i) => cluster.setApplyDelay(i, 100)));
    return { providers: [NotesService] };
  });
  beforeAll(() => env.cluster.waitForReplay()); // the schema, made at startup
  const routing = () => env.app.app.get(RoutingService);
  const notes = () => env.app.app.get(NotesService);
  const watch = () => env.app.app.get(PinDbRouter).forSet('default').replayWatch;
  const onReplica = async (i: number, id: number) => (await env.cluster.query(i, 'SELECT 1 FROM note WHERE id = $1', [id])).length === 1;

  it('replicas 100 ms behind: true once both have replayed the write, which each of them then has', async () => {
    const { id, replicated } = await routing().run(async () => {
      const note = await notes().write('for a webhook');
      return { id: note.id, replicated: await routing().awaitReplication({ timeoutMs: 5000 }) };
    });
    expect(replicated).toBe(true);
    expect(await onReplica(0, id)).toBe(true);
    expect(await onReplica(1, id)).toBe(true);
  });

  it('one replica paused: false after timeoutMs, though the other has replayed the write', async () => {
    await env.cluster.pauseReplay(1);
    try {
      const { id, replicated, ms } = await routing().run(async () => {
        const note = await notes().write('not everywhere yet');
        const t0 = performance.now();
        const replicated = await routing().awaitReplication({ set: 'default', timeoutMs: 400 });
        return { id: note.id, replicated, ms: performance.now() - t0 };
      });
      expect(replicated).toBe(false);
      expect(ms).toBeGreaterThanOrEqual(350);
      expect(ms).toBeLessThan(2500);
      await env.cluster.waitForReplay({ replicas: [0] });
      expect(await onReplica(0, id)).toBe(true);
      expect(await onReplica(1, id)).toBe(false);
    } finally {
      await env.cluster.resumeReplay(1);
    }
  });

  it('a context without writes: true at once, asking no replica, even with replay paused', async () => {
    await pauseReplicas(env.cluster);
    try {
      const polls = watch().polls;
      const replicated = await routing().run(() => routing().awaitReplication({ timeoutMs: 5000 }));
      expect(replicated).toBe(true);
      expect(watch().polls).toBe(polls);
    } finally {
      await resumeReplicas(env.cluster);
    }
  });

  it('outside a pinning context: a clear error', async () => {
    await expect(routing().awaitReplication({ timeoutMs: 100 })).rejects.toThrow(
      /routing\.awaitReplication\(\) was called outside a pinning context.*routing\.run\(\(\) => \.\.\.\)/,
    );
  });

  it('bad options: a PinDbConfigError that says what to pass', async () => {
    const inContext = (options: unknown) => routing().run(() => routing().awaitReplication(options as { timeoutMs: number }));
    await expect(inContext({})).rejects.toThrow(PinDbConfigError);
    await expect(inContext({})).rejects.toThrow(
      /needs timeoutMs, a number of milliseconds from 0 to 2147483647 \(got undefined\), e\.g\. routing\.awaitReplication\(\{ timeoutMs: 2000 \}\)/,
    );
    await expect(inContext({ timeoutMs: -5 })).rejects.toThrow(/got -5/);
    await expect(inContext({ timeoutMs: 'soon' })).rejects.toThrow(/got soon/);
    await expect(inContext(undefined)).rejects.toThrow(/takes an object \{ set\?, timeoutMs \}/);
    await expect(inContext({ set: 'nope', timeoutMs: 100 })).rejects.toThrow(/No database set "nope": the sets are default/);
  });
});
