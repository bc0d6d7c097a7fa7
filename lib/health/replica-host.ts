import type { Pool, PoolClient } from 'pg';
import type { ReplicaLag } from './replica-lag.js';

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
  /** Date.now() when read. */
  at: number;
}

/**
 * One replica of a set (GitLab's Host): its pool once TypeORM has connected, whether it may serve
 * reads (up, in recovery, not lagging), and what the health monitor last read from it.
 */
export class ReplicaHost {
  private pool?: Pool;
  /** Connections checked out of the pool: cut when the host is found dead, so reads stuck on it move on. */
  private readonly checkedOut = new Set<PoolClient>();
  /** Failures in a row; 0 means up. */
  private failures = 0;
  /** While down: no read tries it, and no health check either, before this time (ms). */
  private downUntil = 0;
  lastError?: string;
  reading?: ReplicaReading;
  /** Behind its primary past maxLagBytes or maxLagSeconds. */
  lagging = false;
  /** No longer in recovery: promoted to a primary of its own, so it no longer follows the set's primary. */
  promoted = false;

  constructor(
    readonly index: number,
    /** host:port */
    readonly label: string,
    private readonly cooldown: Cooldown = DEFAULT_COOLDOWN,
  ) {}

  attach(pool: Pool): void {
    this.pool = pool;
  }

  get connectionPool(): Pool | undefined {
    return this.pool;
  }

  /** May serve the next read: connected, up, in recovery and not lagging. Runs for every read. */
  get readable(): boolean {
    return this.pool !== undefined && this.failures === 0 && !this.lagging && !this.promoted;
  }

  get down(): boolean {
    return this.failures > 0;
  }

  /** When a down host may be tried again (ms since the epoch), else undefined. */
  get downUntilMs(): number | undefined {
    return this.failures > 0 ? this.downUntil : undefined;
  }

  /** A health check may run: the host is up, or its cooldown has ended (the half-open probe). */
  checkDue(now = Date.now()): boolean {
    return this.failures === 0 || now >= this.downUntil;
  }

  /** Takes the host out for a cooldown that doubles with each failure in a row. Returns true if it was up. */
  markDown(error: unknown, now = Date.now()): boolean {
    const wasUp = this.failures === 0;
    // Only a failure once the cooldown has ended (the half-open probe failing) is one more in a
    // row. The reads in flight when the host died fail together, after it was marked down: they
    // are the same outage, and counting each would send the cooldown straight to its cap.
    if (wasUp || now >= this.downUntil) {
      this.failures++;
      const { cooldownMs, maxCooldownMs } = this.cooldown;
      this.downUntil = now + Math.min(maxCooldownMs, cooldownMs * 2 ** Math.min(this.failures - 1, 30));
    }
    // Not `instanceof Error`: errors of Node's own modules may come from another realm (Jest's VM).
    const { message, code } = (error ?? {}) as { message?: unknown; code?: unknown };
    this.lastError = String(message || code || error);
    return wasUp;
  }

  /** A health check passed. Returns true if the host was down. */
  markUp(): boolean {
    const wasDown = this.failures > 0;
    this.failures = 0;
    this.downUntil = 0;
    this.lastError = undefined;
    return wasDown;
  }

  /** Connections checked out of its pool: what 'least-busy' compares. */
  busy(): number {
    return this.pool ? this.pool.totalCount - this.pool.idleCount : 0;
  }

  /** One statement on a pooled connection, checked out like a read's so that cutCheckedOut ends it too. */
  async query<T>(sql: string): Promise<T[]> {
    const client = await this.pool!.connect();
    this.checkOut(client);
    let failure: Error | undefined;
    try {
      return (await client.query(sql)).rows as T[];
    } catch (error) {
      failure = error as Error;
      throw error;
    } finally {
      this.checkIn(client);
      client.release(failure);
    }
  }

  checkOut(client: PoolClient): void {
    this.checkedOut.add(client);
  }

  checkIn(client: PoolClient): void {
    this.checkedOut.delete(client);
  }

  /**
   * Cuts every checked-out connection. A frozen server never answers a query already sent, and
   * the kernel keeps its TCP connections alive, so only closing the socket ends the wait: the
   * query then fails as a lost connection, and the read is retried elsewhere.
   */
  cutCheckedOut(): number {
    const count = this.checkedOut.size;
    for (const client of this.checkedOut) {
      (client as unknown as { connection?: { stream?: { destroy(): void } } }).connection?.stream?.destroy();
    }
    this.checkedOut.clear();
    return count;
  }
}
