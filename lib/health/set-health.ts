import { Logger } from '@nestjs/common';
import type { Client, ClientConfig } from 'pg';
import { errorText } from '../errors/error-text.js';
import type { SetRouter } from '../routing/set-router.js';
import { parseLsn } from '../tokens/lsn.js';
import type { ReplicaHost } from './replica-host.js';
import { lagExceeds, replicaLag } from './replica-lag.js';
import { ServerProbe } from './server-probe.js';

/** What is known of one server of a set, for health indicators and metrics. */
export interface ServerHealth {
  /** host:port */
  server: string;
  role: 'primary' | 'replica';
  /** It answered its last check (a replica: and no read has found it unreachable since). */
  up: boolean;
  /** A replica: serves reads now (up, in recovery, not lagging). */
  readable?: boolean;
  lagging?: boolean;
  promoted?: boolean;
  /** A replica that is down: when it may be checked again (ISO time). */
  downUntil?: string;
  lagBytes?: number;
  lagSeconds?: number;
  /** Date.now() of the last check that answered. */
  checkedAt?: number;
  error?: string;
}

export interface SetHealthReport {
  set: string;
  /** Rounds of checks completed so far. */
  rounds: number;
  primary: ServerHealth;
  replicas: ServerHealth[];
}

const PRIMARY_SQL = 'SELECT pg_current_wal_lsn()::text AS lsn';
const REPLICA_SQL = `SELECT pg_is_in_recovery() AS recovery,
  pg_last_wal_replay_lsn()::text AS replay,
  pg_last_wal_receive_lsn()::text AS receive,
  EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp())::float8 AS since`;

interface ReplicaRow {
  recovery: boolean;
  replay: string | null;
  receive: string | null;
  since: number | null;
}

/**
 * One round of health checks of a set: the primary's WAL position, then every replica whose check
 * is due, at once. Each check has its own connection and the time limit of a connect; the readings
 * and up/down changes land on the set's ReplicaHosts, where reads look for them.
 */
export class SetHealth {
  private readonly logger = new Logger('PinDb');
  private readonly primaryProbe: ServerProbe;
  private readonly replicaProbes: ServerProbe[];
  private primary: { up: boolean; checkedAt?: number; error?: string } = { up: true };
  private rounds = 0;

  constructor(private readonly router: SetRouter) {
    const driver = router.attachedDriver!;
    const ClientClass = driver.postgres.Client as new (config: ClientConfig) => Client;
    const timeout = router.options.health.connectTimeoutMs;
    this.primaryProbe = new ServerProbe(ClientClass, driver.master, timeout);
    this.replicaProbes = router.hosts.hosts.map((host) => new ServerProbe(ClientClass, host.connectionPool!, timeout));
  }

  async check(): Promise<void> {
    const primaryLsn = await this.checkPrimary();
    // Down hosts too: a dead replica comes back at the first check it passes.
    await Promise.all(this.router.hosts.hosts.map((host) => this.checkReplica(host, primaryLsn)));
    this.rounds++;
  }

  report(): SetHealthReport {
    return {
      set: this.router.name,
      rounds: this.rounds,
      primary: { server: this.router.set.primary.label, role: 'primary', ...this.primary },
      replicas: this.router.hosts.hosts.map((host) => ({
        server: host.label,
        role: 'replica',
        up: !host.down,
        readable: host.readable,
        lagging: host.lagging,
        promoted: host.promoted,
        downUntil: host.downUntilMs === undefined ? undefined : new Date(host.downUntilMs).toISOString(),
        // A replica that is down has no lag to speak of: its last reading is stale (checkedAt says how stale).
        lagBytes: host.down ? undefined : host.reading?.lagBytes,
        lagSeconds: host.down ? undefined : host.reading?.lagSeconds,
        checkedAt: host.reading?.at,
        error: host.lastError,
      })),
    };
  }

  close(): void {
    this.primaryProbe.close();
    for (const probe of this.replicaProbes) probe.close();
  }

  private async checkPrimary(): Promise<bigint | undefined> {
    const label = this.router.set.primary.label;
    try {
      const [row] = await this.primaryProbe.query<{ lsn: string }>(PRIMARY_SQL);
      if (!this.primary.up) this.logger.log(`${this.router.name}: primary ${label} answers again.`);
      this.primary = { up: true, checkedAt: Date.now() };
      return parseLsn(row.lsn);
    } catch (error) {
      const message = errorText(error);
      if (this.primary.up) this.logger.error(`${this.router.name}: primary ${label} does not answer (${message}); writes and pinned reads of the set fail until it does.`);
      this.primary = { up: false, error: message };
      return undefined;
    }
  }

  private async checkReplica(host: ReplicaHost, primaryLsn: bigint | undefined): Promise<void> {
    const { name } = this.router;
    let row: ReplicaRow;
    try {
      [row] = await this.replicaProbes[host.index].query<ReplicaRow>(REPLICA_SQL);
    } catch (error) {
      // A server that cannot answer a check does not answer the reads already sent to it either
      // (frozen, or its network gone): cut them, so they are retried elsewhere.
      const cut = host.cutCheckedOut();
      const wasUp = host.checkFailed(error);
      if (wasUp || cut > 0) {
        this.logger.warn(`${name}: replica ${host.label} failed its health check (${host.lastError}); it serves no reads until a check passes${cut ? `; ${cut} reads waiting on it were moved` : ''}.`);
      }
      return;
    }
    const now = Date.now();
    if (host.checkPassed(now)) this.logger.log(`${name}: replica ${host.label} passed its health check and serves reads again.`);
    const replayLsn = parseLsn(row.replay);
    const lag = replicaLag({
      primaryLsn,
      replayLsn,
      receiveLsn: parseLsn(row.receive),
      secondsSinceReplay: row.since ?? undefined,
      secondsSinceCaughtUp: host.reading?.caughtUpAt === undefined ? undefined : (now - host.reading.caughtUpAt) / 1000,
    });
    const caughtUpAt = lag.lagSeconds === 0 ? now : host.reading?.caughtUpAt;
    host.reading = { ...lag, inRecovery: row.recovery, replayLsn, at: now, caughtUpAt };

    const promoted = !row.recovery;
    if (promoted !== host.promoted) {
      host.promoted = promoted;
      if (promoted) this.logger.error(`${name}: replica ${host.label} is no longer in recovery (promoted?): it no longer follows the primary, so it serves no reads. Fix the set's servers.`);
      else this.logger.log(`${name}: replica ${host.label} is in recovery again and serves reads.`);
    }
    const lagging = lagExceeds(lag, this.router.options.health);
    if (lagging !== host.lagging) {
      host.lagging = lagging;
      const figures = `${lag.lagBytes ?? '?'} bytes, ${lag.lagSeconds.toFixed(1)} s`;
      if (lagging) this.logger.warn(`${name}: replica ${host.label} lags (${figures}) past maxLagBytes or maxLagSeconds: it serves no reads until it catches up.`);
      else this.logger.log(`${name}: replica ${host.label} has caught up (${figures}) and serves reads again.`);
    }
  }
}
