import { Inject, Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { PinDbRouter } from '../routing/pin-db.router.js';
import { ReplicaDiscovery } from './replica-discovery.js';
import { SetHealth, SetHealthReport } from './set-health.js';

interface Watched {
  health: SetHealth;
  /** sets.<name>.discover: its loop runs beside the health checks, from bootstrap until shutdown. */
  discovery?: ReplicaDiscovery;
  timer?: NodeJS.Timeout;
  round?: Promise<void>;
}

/**
 * The one health monitor of the app: checks every set (its primary, and its replicas if any) every `health.intervalMs`
 * (each wait jittered ±20 %, so the instances of an app do not check in step), from bootstrap
 * until shutdown. Its timers are unref'd and cleared on shutdown: they keep neither the process
 * nor a test runner alive.
 *
 * Bootstrap waits for the first round: no replica serves a read before a check has seen it in
 * recovery, so without it the app's first requests would all go to the primary. A check's connect
 * and its query are each bounded by `health.connectTimeoutMs`, and the replicas are checked after
 * the primary, so a frozen server delays bootstrap by at most four times that (a refused one by
 * next to nothing).
 */
@Injectable()
export class PinDbHealthMonitor implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('PinDb');
  private readonly watched: Watched[] = [];
  private stopped = false;
  private firstRounds: Promise<unknown> = Promise.resolve();

  constructor(@Inject(PinDbRouter) private readonly router: PinDbRouter) {}

  async onApplicationBootstrap(): Promise<void> {
    // Every set, for its primary's health; its replicas too when it has some (with enabled: false
    // it has none). A DataSource not created has no pools.
    for (const setRouter of this.router.all()) {
      if (!setRouter.attachedDriver) continue;
      const watched: Watched = { health: new SetHealth(setRouter), discovery: ReplicaDiscovery.of(setRouter) };
      this.watched.push(watched);
      // The first discovery (bounded in time) before the first round, so that it checks the replicas found too.
      this.runRound(watched, watched.discovery?.start());
    }
    this.firstRounds = Promise.all(this.watched.map((watched) => watched.round));
    await this.firstRounds;
  }

  /** Resolves once every set has had its first round: a report asked for at startup then says something. */
  started(): Promise<unknown> {
    return this.firstRounds;
  }

  async onModuleDestroy(): Promise<void> {
    this.stopped = true;
    for (const watched of this.watched) clearTimeout(watched.timer);
    await Promise.all(this.watched.map((watched) => watched.round));
    await Promise.all(this.watched.map((watched) => watched.discovery?.stop()));
    for (const watched of this.watched) watched.health.close();
  }

  /** What the last checks found, set by set. */
  report(): SetHealthReport[] {
    return this.watched.map((watched) => watched.health.report());
  }

  private runRound(watched: Watched, after?: Promise<void>): void {
    watched.round = Promise.resolve(after)
      .then(() => watched.health.check())
      .catch((error) => this.logger.error(`Health check round failed: ${(error as Error).stack ?? error}`))
      .finally(() => {
        watched.round = undefined;
        if (this.stopped) return;
        const delay = this.router.options.health.intervalMs * (0.8 + Math.random() * 0.4);
        watched.timer = setTimeout(() => this.runRound(watched), delay);
        watched.timer.unref();
      });
  }
}
