import { Controller, Get } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { RoutingService, UseReplica } from '../../lib/index.js';
import type { PgCluster } from '../../lib/testing/index.js';
import { FAST_HEALTH, replicaHost } from '../support/failover.js';
import { readPort } from '../support/probe.js';
import { clusterApp, PLATFORMS, TestApp } from '../support/test-app.js';
import { describeWithFaults } from '../support/test-cluster.js';
import { until } from '../support/token-cookies.js';

/**
 * The scopes' bound. A replica that replays keeps well within it on a loaded machine (its lag is
 * the milliseconds since its last replayed commit); a paused one is waited for until it is past.
 */
const MAX_LAG_MS = 1000;

@Controller('lag')
class LagController {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly routing: RoutingService,
  ) {}

  private async answer() {
    return { port: await readPort(this.dataSource), target: this.routing.target(), fallbacks: this.routing.stats().sets.default?.fallbacks ?? 0 };
  }

  @Get('scope')
  scope() {
    return this.routing.useReplica(() => this.answer(), { maxLagMs: MAX_LAG_MS });
  }

  @Get('plain-scope')
  plainScope() {
    return this.routing.useReplica(() => this.answer());
  }

  @Get('decorated')
  @UseReplica({ maxLagMs: MAX_LAG_MS })
  decorated() {
    return this.answer();
  }

  /** The innermost scope decides: a plain useReplica inside the handler's bound lifts it. */
  @Get('decorated-plain-scope')
  @UseReplica({ maxLagMs: MAX_LAG_MS })
  decoratedPlainScope() {
    return this.routing.useReplica(() => this.answer());
  }
}

/** A writer on the primary, a row every 50 ms, so that a paused replica falls behind in time. */
function primaryWriter(cluster: PgCluster): { stop: () => Promise<void> } {
  let running = true;
  const loop = (async () => {
    while (running) {
      await cluster.query('primary', "INSERT INTO note (text) VALUES ('tick')");
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
    },
  };
}

/** `count` GETs of `path`, one after the other (round-robin would spread them over every replica it may use). */
async function reads(app: TestApp, path: string, count: number): Promise<{ port: number; target: string; fallbacks: number }[]> {
  const answers = [];
  for (let i = 0; i < count; i++) answers.push((await app.get(path)).body);
  return answers;
}

describeWithFaults('maxLagMs on @UseReplica and routing.useReplica', () => {
  describe.each(PLATFORMS)('%s', (platform) => {
    const env = clusterApp(platform, () => ({ pindb: { health: FAST_HEALTH }, controllers: [LagController] }));
    /** The replica's lag as the health monitor last read it, in ms (NaN: not read yet). */
    const lagMs = (index: number) => (replicaHost(env.app.app, index).reading?.lagSeconds ?? NaN) * 1000;
    let writer: { stop: () => Promise<void> } | undefined;
    afterEach(async () => {
      await writer?.stop();
      writer = undefined;
      await env.cluster.resumeReplay(0);
      await env.cluster.resumeReplay(1);
    });

    it('one replica paused while the primary writes: reads within maxLagMs go only to the other; without it, to both', async () => {
      const [replaying, paused] = env.replicaPorts;
      await env.cluster.pauseReplay(1);
      writer = primaryWriter(env.cluster);
      await until(() => lagMs(1) > 2 * MAX_LAG_MS && lagMs(0) <= MAX_LAG_MS);

      for (const path of ['/lag/scope', '/lag/decorated']) {
        const answers = await reads(env.app, path, 6);
        expect(answers.map((answer) => answer.port)).toEqual(Array(6).fill(replaying));
        expect(answers.map((answer) => answer.target)).toEqual(Array(6).fill('replica'));
      }
      for (const path of ['/lag/plain-scope', '/lag/decorated-plain-scope']) {
        const ports = new Set((await reads(env.app, path, 6)).map((answer) => answer.port));
        expect(ports).toEqual(new Set([replaying, paused]));
      }
    });

    it('both paused: reads within maxLagMs go to the primary (a fallback, and target() says so); without it, still to replicas; once replayed, to replicas again', async () => {
      await env.cluster.pauseReplay(0);
      await env.cluster.pauseReplay(1);
      writer = primaryWriter(env.cluster);
      await until(() => lagMs(0) > 2 * MAX_LAG_MS && lagMs(1) > 2 * MAX_LAG_MS);

      for (const path of ['/lag/scope', '/lag/decorated']) {
        const answers = await reads(env.app, path, 4);
        expect(answers).toEqual(Array(4).fill({ port: env.cluster.primary.port, target: 'primary', fallbacks: 1 }));
      }
      const ports = new Set((await reads(env.app, '/lag/plain-scope', 4)).map((answer) => answer.port));
      expect(ports).toEqual(new Set(env.replicaPorts));

      await writer.stop();
      writer = undefined;
      await env.cluster.resumeReplay(0);
      await env.cluster.resumeReplay(1);
      await env.cluster.waitForReplay();
      await until(() => lagMs(0) <= MAX_LAG_MS && lagMs(1) <= MAX_LAG_MS);
      const after = await reads(env.app, '/lag/scope', 4);
      expect(new Set(after.map((answer) => answer.port))).toEqual(new Set(env.replicaPorts));
    });
  });
});
