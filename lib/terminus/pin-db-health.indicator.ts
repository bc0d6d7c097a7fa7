import { Inject, Injectable } from '@nestjs/common';
import { HealthIndicatorService, type HealthIndicatorResult } from '@nestjs/terminus';
import { PinDbHealthMonitor } from '../health/pin-db-health.monitor.js';
import type { ServerHealth } from '../health/set-health.js';
import { PinDbRouter } from '../routing/pin-db.router.js';

/** A server as the health check reports it: ServerHealth, with times as ISO strings and without the role (implied by where it is). */
export type ServerHealthDetails = Omit<ServerHealth, 'role' | 'checkedAt'> & { checkedAt?: string };

/** A server as `details: false` reports it: flags only, no address and no error text. Its index in `replicas` is the server's index. */
export type ServerHealthFlags = Pick<ServerHealth, 'up' | 'readable' | 'lagging'>;

export interface SetHealthDetails<Server = ServerHealthDetails> {
  primary: Server;
  replicas: Server[];
}

/** What the indicator adds under its key, next to `status`. */
export interface PinDbHealthDetails<Server = ServerHealthDetails> {
  [key: string]: unknown;
  sets: Record<string, SetHealthDetails<Server>>;
}

export interface PinDbHealthCheckOptions {
  /**
   * false: per set and server only the up, readable and lagging flags, with no server address and
   * no driver error text, for a health endpoint that people outside may reach (addresses and
   * errors tell an attacker about the network). Default: true
   */
  details?: boolean;
}

/**
 * A `@nestjs/terminus` health indicator: up while every set's primary answers, down (HTTP 503)
 * when one does not. A replica that is down or lagging leaves it up, since the set's reads then go
 * to its other servers, but shows in the details: per set, the primary and each replica (up,
 * readable, lagging, promoted, downUntil, lagBytes, lagSeconds, the last error), or only
 * up/readable/lagging with `{ details: false }`.
 *
 * It reads the health monitor's last round (every `health.intervalMs`, every set's primary and
 * replicas), so a health endpoint polled often sends no query of its own.
 */
@Injectable()
export class PinDbHealthIndicator {
  constructor(
    @Inject(HealthIndicatorService) private readonly indicators: HealthIndicatorService,
    @Inject(PinDbHealthMonitor) private readonly monitor: PinDbHealthMonitor,
    @Inject(PinDbRouter) private readonly router: PinDbRouter,
  ) {}

  /**
   * `() => this.pindb.isHealthy('database')` in `health.check([...])`; on a public endpoint,
   * `isHealthy('database', { details: false })` leaves out addresses and error text.
   */
  async isHealthy<const Key extends string>(key: Key, { details = true }: PinDbHealthCheckOptions = {}): Promise<HealthIndicatorResult<Key>> {
    const sets = await this.sets();
    const report: PinDbHealthDetails<ServerHealthDetails | ServerHealthFlags> = { sets: details ? sets : flagsOnly(sets) };
    const session = this.indicators.check(key);
    const up = Object.values(sets).every((set) => set.primary.up);
    return up ? session.up(report) : session.down(report);
  }

  private async sets(): Promise<Record<string, SetHealthDetails>> {
    await this.monitor.started();
    const reports = new Map(this.monitor.report().map((report) => [report.set, report]));
    return Object.fromEntries(
      this.router.all().map((router): [string, SetHealthDetails] => {
        const report = reports.get(router.name);
        if (!report)
          return [
            router.name,
            {
              primary: { server: router.set.primary.label, up: false, error: 'The set has no DataSource yet: the app has not finished starting.' },
              replicas: [],
            },
          ];
        return [router.name, { primary: details(report.primary), replicas: report.replicas.map(details) }];
      }),
    );
  }
}

function details({ role: _role, checkedAt, ...health }: ServerHealth): ServerHealthDetails {
  return { ...health, checkedAt: checkedAt === undefined ? undefined : new Date(checkedAt).toISOString() };
}

function flagsOnly(sets: Record<string, SetHealthDetails>): Record<string, SetHealthDetails<ServerHealthFlags>> {
  const flags = ({ up, readable, lagging }: ServerHealthDetails): ServerHealthFlags => ({ up, readable, lagging });
  return Object.fromEntries(Object.entries(sets).map(([name, set]) => [name, { primary: flags(set.primary), replicas: set.replicas.map(flags) }]));
}
