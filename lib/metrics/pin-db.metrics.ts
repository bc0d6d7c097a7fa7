import { Inject, Injectable, Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { PinDbHealthMonitor } from '../health/pin-db-health.monitor.js';
import type { MetricsRegistry } from '../options/pin-db-module-options.js';
import { PinDbRouter } from '../routing/pin-db.router.js';
import { HealthGauges } from './health-gauges.js';
import { loadPromClient } from './prom-client.js';
import { RoutingCounters } from './routing-counters.js';

/**
 * The Prometheus metrics of the app, when prom-client is installed (or the `metrics` option asks
 * for them: then a missing prom-client has already failed the bootstrap). Counts routing events
 * from the router, reads health from the monitor, and lets go of both at shutdown.
 */
@Injectable()
export class PinDbMetrics implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger('PinDb');
  private counters?: RoutingCounters;
  private gauges?: HealthGauges;

  constructor(
    @Inject(PinDbRouter) private readonly router: PinDbRouter,
    @Inject(PinDbHealthMonitor) private readonly monitor: PinDbHealthMonitor,
  ) {}

  async onModuleInit(): Promise<void> {
    const options = this.router.options.metrics;
    if (!options) return;
    const prom = await loadPromClient();
    if (!prom) {
      this.logger.debug('prom-client is not installed: no Prometheus metrics (npm install prom-client to get them).');
      return;
    }
    const registry: MetricsRegistry = options.registry ?? prom.register;
    const known = this.router
      .all()
      .map((router) => ({ set: router.name, primary: router.set.primary.label, replicas: router.hosts.hosts.map((host) => host.label) }));
    this.counters = new RoutingCounters(prom, registry, options.prefix, known);
    this.gauges = new HealthGauges(prom, registry, options.prefix, () => this.monitor.report());
    this.router.events.observe(this.counters);
  }

  onModuleDestroy(): void {
    if (!this.counters) return;
    this.router.events.observe(undefined);
    this.counters.close();
    this.gauges?.close();
    this.counters = this.gauges = undefined;
  }
}
