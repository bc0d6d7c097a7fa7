import type { Pool } from 'pg';
import { errorText } from '../errors/error-text.js';
import type { ReplicaPlacement } from '../options/server-options.js';
import { CheckedOutConnections } from './checked-out-connections.js';
import type { ReplicaLag } from './replica-lag.js';
import { ReplicaLatency } from './replica-latency.js';

/** How long a failing host is skipped: `cooldownMs`, doubled for each failure in a row, up to `maxCooldownMs`. */
export interface Cooldown {
  cooldownMs: number;
  maxCooldownMs: number;
}

const DEFAULT_COOLDOWN: Cooldown = { cooldownMs: 5000, maxCooldownMs: 60_000 };

/** What the last health check of a replica found. */
export interface ReplicaReading extends ReplicaLag {
  inRecovery: boolean;
  /** pg_last_wal_replay_lsn() */
  replayLsn?: bigint;
  /** Its timeline (the WAL receiver's, else its last restartpoint's; out of recovery, its own): read with followPromotion only. */
  timeline?: number;
  /** Date.now() when read. */
  at: number;
}

/**
 * One replica of a set (GitLab's Host): its pool once TypeORM has connected, whether it may serve
 * reads (up, seen in recovery, not lagging), and what the health monitor last read from it.
 */
export class ReplicaHost {
  private pool?: Pool;
  /** Connections checked out of its pool: cut when a health check fails, so reads stuck on it move on. */
  readonly connections = new CheckedOutConnections();
  private isDown = false;
  /** Outages in a row: each one that starts soon after the last ended doubles the cooldown. */
  private outages = 0;
  /** While down: no read tries it before this time (ms). */
  private downUntil = 0;
  /** While down: a health check failed too, so the server itself was dead (not just a read's bad luck). */
  private deadConfirmed = false;
  /** When it last came back (ms); 0: never went down. */
  private upSince = 0;
  lastError?: string;
  reading?: ReplicaReading;
  /** Behind its primary past maxLagBytes or maxLagSeconds. */
  lagging = false;
  /** After a followed promotion: not (yet) on the new primary's timeline, so it does not follow it (see onPrimaryTimeline). */
  offTimeline = false;
  /** Its share of the reads (sets.<name>.replicas[i].weight); 0: a standby. */
  readonly weight: number;
  /** Its zone (sets.<name>.replicas[i].zone), if it has one. */
  readonly zone?: string;
  /** Its recent statement times, for 'fastest'. */
  readonly latency = new ReplicaLatency();
  /** Discovery no longer lists it: it serves no new read, and its pool closes once the reads on it end. */
  private isRetired = false;

  constructor(
    readonly index: number,
    /** host:port */
    readonly label: string,
    private readonly cooldown: Cooldown = DEFAULT_COOLDOWN,
    { weight = 1, zone }: ReplicaPlacement = {},
  ) {
    this.weight = weight;
    this.zone = zone;
  }

  attach(pool: Pool): void {
    this.pool = pool;
  }

  get connectionPool(): Pool | undefined {
    return this.pool;
  }

  /**
   * May serve the next read: connected, up, not lagging, and a health check has seen it in
   * recovery. Until one has, it may be anything, a standalone primary too, which would serve
   * stale or foreign data and take misclassified writes. Runs for every read.
   */
  get readable(): boolean {
    return this.pool !== undefined && !this.isDown && !this.lagging && !this.offTimeline && this.reading?.inRecovery === true && !this.isRetired;
  }

  get retired(): boolean {
    return this.isRetired;
  }

  /** Out of the set for good (replica discovery no longer lists it): never readable again. */
  retire(): void {
    this.isRetired = true;
  }

  /** Its last health check found it out of recovery: promoted, or never a replica, so it does not follow the set's primary. */
  get promoted(): boolean {
    return this.reading !== undefined && !this.reading.inRecovery;
  }

  get down(): boolean {
    return this.isDown;
  }

  /** While down: the earliest time it may serve reads again (ms since the epoch), else undefined. */
  get downUntilMs(): number | undefined {
    return this.isDown ? this.downUntil : undefined;
  }

  /**
   * Takes the host out: no read tries it for a cooldown of `cooldownMs`, doubled for each outage
   * that starts within `maxCooldownMs` of the last one ending (a host that keeps failing), up to
   * `maxCooldownMs`. Failures while down (the other reads that were in flight, failed checks) are
   * the same outage. Returns true if it was up.
   */
  markDown(error: unknown, now = Date.now()): boolean {
    this.lastError = errorText(error);
    if (this.isDown) return false;
    const { cooldownMs, maxCooldownMs } = this.cooldown;
    this.outages = this.upSince > 0 && now - this.upSince < maxCooldownMs ? this.outages + 1 : 1;
    this.isDown = true;
    this.deadConfirmed = false;
    this.downUntil = now + Math.min(maxCooldownMs, cooldownMs * 2 ** Math.min(this.outages - 1, 30));
    return true;
  }

  /** A health check failed: the host is down, and was really dead (see checkPassed). Returns true if it was up. */
  checkFailed(error: unknown, now = Date.now()): boolean {
    const wasUp = this.markDown(error, now);
    this.deadConfirmed = true;
    return wasUp;
  }

  /**
   * A health check passed. A host that was dead (a check failed too) comes back at once: its
   * outage is over, whatever the cooldown. A host that only failed reads while its checks passed
   * (a full pool, a flaky network) comes back when its cooldown has ended: re-admitting it at the
   * next check would let it fail reads again every interval. Returns true if it came back.
   */
  checkPassed(now = Date.now()): boolean {
    if (!this.isDown || (!this.deadConfirmed && now < this.downUntil)) return false;
    this.isDown = false;
    this.upSince = now;
    this.lastError = undefined;
    return true;
  }

  /** Connections checked out of its pool: what 'least-busy' compares. */
  busy(): number {
    return this.pool ? this.pool.totalCount - this.pool.idleCount : 0;
  }

  /** One statement on a pooled connection (checked out like a read's, so cutting `connections` ends it too). */
  async query<T>(sql: string): Promise<T[]> {
    return (await this.pool!.query(sql)).rows as T[];
  }
}
