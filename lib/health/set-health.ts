import { Logger } from '@nestjs/common';
import type { Client, ClientConfig } from 'pg';
import { errorText } from '../errors/error-text.js';
import type { SetRouter } from '../routing/set-router.js';
import { parseLsn } from '../tokens/lsn.js';
import type { ReplicaHost } from './replica-host.js';
import { lagExceeds, replicaLag } from './replica-lag.js';
import { ServerProbe } from './server-probe.js';
import { WalHistory } from './wal-history.js';

/** What is known of one server of a set, for health indicators and metrics. */
export interface ServerHealth {
  /** host:port */
  server: string;
  role: 'primary' | 'replica';
  /** It answered its last check (a replica: and no read has found it unreachable since). */
  up: boolean;
  /** A replica: serves reads now (up, seen in recovery by a check, not lagging). */
  readable?: boolean;
  lagging?: boolean;
  /** A replica its last check found out of recovery (promoted, or never a replica). */
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
 * One round of health checks of a set: the primary's WAL position, then every replica, at once.
 * Each check has its own connection and the time limit of a connect; the readings and up/down
 * changes land on the set's PrimaryHost and ReplicaHosts, where routing looks for them.
 */
export class SetHealth {
  private readonly logger = new Logger('PinDb');
  private readonly primaryProbe: ServerProbe;
  private readonly replicaProbes: ServerProbe[];
  /** What the primary's last check found, for the report; `up` is on router.primary. */
  private primaryCheck: { checkedAt?: number; error?: string } = {};
  /** The primary's recent positions: replicas' time lag is measured against them. */
  private readonly walHistory: WalHistory;
  private rounds = 0;

  constructor(private readonly router: SetRouter) {
    const driver = router.attachedDriver!;
    const ClientClass = driver.postgres.Client as new (config: ClientConfig) => Client;
    const { connectTimeoutMs, intervalMs, maxLagSeconds } = router.options.health;
    this.primaryProbe = new ServerProbe(ClientClass, driver.master, connectTimeoutMs);
    this.replicaProbes = router.hosts.hosts.map((host) => new ServerProbe(ClientClass, host.connectionPool!, connectTimeoutMs));
    // Past maxLagSeconds the exact figure no longer changes the verdict; a few rounds more keep it
    // exact for the reports while a replica crosses the limit.
    this.walHistory = new WalHistory(maxLagSeconds * 1000 + 4 * intervalMs);
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
      primary: { server: this.router.primary.label, role: 'primary', up: this.router.primary.up, ...this.primaryCheck },
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

  /**
   * The primary's WAL position, recorded on router.primary and in the history. A primary that
   * fails its check has its checked-out connections cut: a frozen or partitioned server never
   * answers the statements already sent, and the kernel keeps their connections open, so they
   * would hang as long as it stays so. They fail as lost connections instead (never re-sent: a
   * write may have been committed).
   */
  private async checkPrimary(): Promise<bigint | undefined> {
    const { name, primary } = this.router;
    const askedAt = Date.now();
    try {
      const [row] = await this.primaryProbe.query<{ lsn: string }>(PRIMARY_SQL);
      const lsn = parseLsn(row.lsn);
      if (lsn === undefined) throw new Error(`pg_current_wal_lsn() gave ${JSON.stringify(row.lsn)}, not a WAL position`);
      if (!primary.up) this.logger.log(`${name}: primary ${primary.label} answers its health check again.`);
      primary.up = true;
      primary.sawLsn(lsn);
      this.walHistory.record(lsn, askedAt);
      this.primaryCheck = { checkedAt: Date.now() };
      return lsn;
    } catch (error) {
      const message = errorText(error);
      const cut = primary.connections.cutAll();
      if (primary.up || cut > 0) {
        const cutNote = cut > 0 ? `; cut the ${cut} checked-out connection${cut === 1 ? '' : 's'} waiting on it, so their statements fail` : '';
        this.logger.error(
          `${name}: primary ${primary.label} failed its health check (${message})${cutNote}; writes and pinned reads of the set fail until it answers.`,
        );
      }
      primary.up = false;
      this.primaryCheck = { error: message };
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
      const cut = host.connections.cutAll();
      const wasUp = host.checkFailed(error);
      if (wasUp || cut > 0) {
        this.logger.warn(
          `${name}: replica ${host.label} failed its health check (${host.lastError}); it serves no reads until a check passes${cut ? `; ${cut} reads waiting on it were moved` : ''}.`,
        );
      }
      return;
    }
    const now = Date.now();
    if (host.checkPassed(now)) this.logger.log(`${name}: replica ${host.label} passed its health check and serves reads again.`);
    const replayLsn = parseLsn(row.replay);
    const lag = replicaLag({
      now,
      history: this.walHistory.readings,
      primaryLsn,
      replayLsn,
      receiveLsn: parseLsn(row.receive),
      secondsSinceReplay: row.since ?? undefined,
    });
    const wasPromoted = host.promoted;
    host.reading = { ...lag, inRecovery: row.recovery, replayLsn, at: now };

    if (host.promoted && !wasPromoted) {
      this.logger.error(
        `${name}: replica ${host.label} is not in recovery (promoted, or not a replica of this primary at all): it serves no reads. Fix the set's servers.`,
      );
    } else if (wasPromoted && !host.promoted) {
      this.logger.log(`${name}: replica ${host.label} is in recovery again and serves reads.`);
    }
    const lagging = lagExceeds(lag, this.router.options.health);
    if (lagging !== host.lagging) {
      host.lagging = lagging;
      const figures = `${lag.lagBytes ?? '?'} bytes, ${lag.lagSeconds.toFixed(1)} s`;
      if (lagging)
        this.logger.warn(`${name}: replica ${host.label} lags (${figures}) past maxLagBytes or maxLagSeconds: it serves no reads until it catches up.`);
      else this.logger.log(`${name}: replica ${host.label} has caught up (${figures}) and serves reads again.`);
    }
  }
}
