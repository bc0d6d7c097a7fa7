import { INestApplicationContext, Injectable, SetMetadata } from '@nestjs/common';
import { getDataSourceToken } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { PinDbConfigError, PinningContext, RoutingService } from '../../lib/index.js';
import type { PgCluster } from '../../lib/testing/index.js';
import { NotesService, readPort } from '../support/probe.js';
import { createTestContext } from '../support/test-app.js';
import { testCluster } from '../support/test-cluster.js';

/** A job processor, as a queue or cron would call it: no HTTP, one context per call. */
@Injectable()
class NightlyJob {
  constructor(
    private readonly routing: RoutingService,
    private readonly notes: NotesService,
  ) {}

  @PinningContext()
  async process(write: boolean, pause: Promise<void>) {
    if (write) await this.notes.write('written by a job');
    await pause;
    return { pinned: this.routing.isPinned(), queries: this.routing.stats().queries };
  }
}

describe('RoutingService', () => {
  let cluster: PgCluster;
  let context: INestApplicationContext;
  let routing: RoutingService;
  let dataSource: DataSource;
  let replicaPorts: number[];
  beforeAll(async () => {
    cluster = await testCluster({ replicas: 2 });
    replicaPorts = cluster.replicas.map((r) => r.port);
    context = await createTestContext({ cluster, providers: [NotesService, NightlyJob] });
    routing = context.get(RoutingService);
    dataSource = context.get(getDataSourceToken());
  });
  afterAll(async () => {
    await context?.close();
    await cluster?.stop();
  });

  it('run() opens a fresh context: pins made in one run are not seen by another, nor outside', async () => {
    let release!: () => void;
    const paused = new Promise<void>((resolve) => (release = resolve));
    const pinnedRun = routing.run(async () => {
      routing.pin();
      await paused;
      return { pinned: routing.isPinned(), port: await readPort(dataSource) };
    });
    const plainRun = routing.run(async () => ({ pinned: routing.isPinned(), port: await readPort(dataSource) }));
    const plain = await plainRun;
    release();
    expect(plain.pinned).toBe(false);
    expect(replicaPorts).toContain(plain.port);
    expect(await pinnedRun).toEqual({ pinned: true, port: cluster.primary.port });
    expect(routing.isPinned()).toBe(false);
  });

  it('usePrimary and useReplica nest, and each restores the outer target when it settles', async () => {
    await routing.run(async () => {
      expect(routing.target()).toBe('replica');
      await routing.usePrimary(async () => {
        expect(routing.target()).toBe('primary');
        expect(await readPort(dataSource)).toBe(cluster.primary.port);
        await routing.useReplica(async () => {
          await new Promise((resolve) => setTimeout(resolve, 5));
          expect(routing.target()).toBe('replica');
          expect(replicaPorts).toContain(await readPort(dataSource));
        });
        expect(routing.target()).toBe('primary');
        expect(await readPort(dataSource)).toBe(cluster.primary.port);
      });
      expect(routing.target()).toBe('replica');
    });
  });

  it('restores the outer target when the scope throws, sync or async', async () => {
    await routing.run(async () => {
      await expect(
        routing.usePrimary(async () => {
          await readPort(dataSource);
          throw new Error('async failure');
        }),
      ).rejects.toThrow('async failure');
      expect(routing.target()).toBe('replica');
      expect(() =>
        routing.usePrimary(() => {
          throw new Error('sync failure');
        }),
      ).toThrow('sync failure');
      expect(routing.target()).toBe('replica');
      expect(replicaPorts).toContain(await readPort(dataSource));
    });
  });

  it('useReplica reads from replicas in a pinned context, and the pin is back after it', async () => {
    await routing.run(async () => {
      routing.pin('default');
      expect(await readPort(dataSource)).toBe(cluster.primary.port);
      expect(replicaPorts).toContain(await routing.useReplica(() => readPort(dataSource)));
      expect(await readPort(dataSource)).toBe(cluster.primary.port);
    });
  });

  it('counts the context’s queries by set and server in stats()', async () => {
    const stats = await routing.run(async () => {
      await readPort(dataSource);
      await readPort(dataSource);
      await routing.usePrimary(() => readPort(dataSource));
      return routing.stats();
    });
    expect(stats.queries).toBe(3);
    expect(stats.sets.default.primary).toBe(1);
    expect(stats.sets.default.replica).toBe(2);
    expect(stats.sets.default.servers[`127.0.0.1:${cluster.primary.port}`]).toBe(1);
    expect(Object.values(stats.sets.default.servers).reduce((a, b) => a + b)).toBe(3);
  });

  it('@PinningContext() gives each call of a job its own context', async () => {
    const job = context.get(NightlyJob);
    let release!: () => void;
    const paused = new Promise<void>((resolve) => (release = resolve));
    const writer = job.process(true, paused);
    const reader = job.process(false, Promise.resolve());
    expect(await reader).toEqual({ pinned: false, queries: 0 });
    release();
    const wrote = await writer;
    expect(wrote.pinned).toBe(true);
    expect(wrote.queries).toBeGreaterThan(0);
  });

  it('@PinningContext() keeps the metadata other decorators (@Cron, @Process: SetMetadata) left on the method', () => {
    class Job {
      @PinningContext()
      @SetMetadata('queue:process', 'emails')
      handle() {
        return routing.isPinned();
      }

      @SetMetadata('cron', '0 * * * *')
      @PinningContext()
      tick() {
        return 2;
      }
    }
    expect(Reflect.getMetadata('queue:process', Job.prototype.handle)).toBe('emails');
    expect(Reflect.getMetadata('cron', Job.prototype.tick)).toBe('0 * * * *');
    expect(new Job().handle()).toBe(false);
    expect(new Job().tick()).toBe(2);
  });

  it('pin() outside any context says how to get one', () => {
    expect(() => routing.pin()).toThrow(/outside a pinning context.*routing\.run\(\(\) => \.\.\.\).*@PinningContext\(\)/);
  });

  it('names the known sets when given an unknown one', () => {
    expect(() => routing.isPinned('analytic')).toThrow(PinDbConfigError);
    expect(() => routing.usePrimary(() => 1, 'analytic')).toThrow(/No database set "analytic": the sets are default/);
    expect(() => routing.target('nope')).toThrow(PinDbConfigError);
  });

  it('outside any context, reads go to replicas and writes to the primary, and nothing is pinned', async () => {
    expect(replicaPorts).toContain(await readPort(dataSource));
    const note = await context.get(NotesService).write('outside any context');
    expect(await cluster.query('primary', 'SELECT text FROM note WHERE id = $1', [note.id])).toEqual([{ text: 'outside any context' }]);
    expect(routing.isPinned()).toBe(false);
    expect(replicaPorts).toContain(await readPort(dataSource));
  });
});
