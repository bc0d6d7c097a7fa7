import { Logger } from '@nestjs/common';
import type { Client, ClientConfig } from 'pg';
import { errorText } from '../errors/error-text.js';
import type { SetRouter } from '../routing/set-router.js';
import { parseLsn } from '../tokens/lsn.js';
import { onPrimaryTimeline, promotionCandidate, type PromotionReading } from './promotion-candidate.js';
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
  /** Its timeline as its last check read it (sets.<name>.followPromotion only). */
  timeline?: number;
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
  /** followPromotion: times the set's writes switched to a promoted replica (0 before any). */
  primarySwitches?: number;
  /** followPromotion, after a switch: the primary before the last one (host:port). */
  promotedFrom?: string;
}

const PRIMARY_SQL = 'SELECT pg_current_wal_lsn()::text AS lsn';
/**
 * A server out of recovery: its timeline. pg_control_checkpoint()'s is its last checkpoint's, which
 * a server just promoted writes a moment later; the timeline of the WAL file it writes
 * (pg_walfile_name's first 8 hex digits) is the new one at once.
 */
const OWN_TIMELINE = `GREATEST((SELECT timeline_id FROM pg_control_checkpoint()), ('x' || substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8))::bit(32)::int)`;
/** followPromotion: the primary's timeline too, to tell a promoted replica from a stray server. */
const PRIMARY_TIMELINE_SQL = `SELECT pg_current_wal_lsn()::text AS lsn, ${OWN_TIMELINE} AS timeline`;
const REPLICA_SQL = `SELECT pg_is_in_recovery() AS recovery,
  pg_last_wal_replay_lsn()::text AS replay,
  pg_last_wal_receive_lsn()::text AS receive,
  EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp())::float8 AS since`;
/**
 * followPromotion: a replica's timeline too. Out of recovery, its own; in recovery, the one its WAL
 * receiver streams (pg_stat_wal_receiver: its details need pg_read_all_stats), else its last
 * restartpoint's, which lags behind a timeline switch until the next restartpoint.
 */
const REPLICA_TIMELINE_SQL = `${REPLICA_SQL},
  CASE WHEN pg_is_in_recovery() THEN COALESCE((SELECT received_tli FROM pg_stat_wal_receiver), (SELECT timeline_id FROM pg_control_checkpoint()))
    ELSE ${OWN_TIMELINE} END AS timeline`;

interface ReplicaRow {
  recovery: boolean;
  replay: string | null;
  receive: string | null;
  since: number | null;
  timeline?: number | null;
}

/**
 * One round of health checks of a set: the primary's WAL position, then every replica, at once.
 * Each check has its own connection and the time limit of a connect; the readings and up/down
 * changes land on the set's PrimaryHost and ReplicaHosts, where routing looks for them.
 */
export class SetHealth {
  private readonly logger = new Logger('PinDb');
  private readonly primaryProbe: ServerProbe;
  /** One probe per replica, made at its first check and closed once it has left the set (replica discovery). */
  private readonly replicaProbes = new Map<ReplicaHost, ServerProbe>();
  private readonly ClientClass: new (config: ClientConfig) => Client;
  /** What the primary's last check found, for the report; `up` is on router.primary. */
  private primaryCheck: { checkedAt?: number; error?: string; timeline?: number } = {};
  /** The last split brain between promoted replicas logged, so that it is logged once. */
  private ambiguousLogged?: string;
  /** The primary's recent positions: replicas' time lag is measured against them. */
  private readonly walHistory: WalHistory;
  private rounds = 0;

  constructor(private readonly router: SetRouter) {
    const driver = router.attachedDriver!;
    const ClientClass = driver.postgres.Client as new (config: ClientConfig) => Client;
    const { connectTimeoutMs, intervalMs, maxLagSeconds } = router.options.health;
    this.primaryProbe = new ServerProbe(ClientClass, driver.master, connectTimeoutMs);
    this.ClientClass = ClientClass;
    // Past maxLagSeconds the exact figure no longer changes the verdict; a few rounds more keep it
    // exact for the reports while a replica crosses the limit.
    this.walHistory = new WalHistory(maxLagSeconds * 1000 + 4 * intervalMs);
  }

  async check(): Promise<void> {
    const primaryLsn = await this.checkPrimary();
    // The set's replicas as of now (discovery may have changed them since the last round); down
    // hosts too: a dead replica comes back at the first check it passes.
    const hosts = this.router.hosts.hosts;
    this.closeProbesOfHostsGone(hosts);
    // A promoted replica the set follows is checked as the primary, not as a replica.
    const { primary, set } = this.router;
    const replicas = primary.promoted ? hosts.filter((host) => host !== primary.promoted) : hosts;
    const answered = await Promise.all(replicas.map((host) => this.checkReplica(host, primaryLsn)));
    if (set.followPromotion) {
      if (!primary.up) this.followPromotion(replicas.map((host, i) => ({ server: host, reachable: answered[i], ...host.reading })));
      if (primary.promoted) for (const host of replicas) this.checkTimeline(host);
    }
    this.rounds++;
  }

  report(): SetHealthReport {
    return {
      set: this.router.name,
      rounds: this.rounds,
      primary: { server: this.router.primary.label, role: 'primary', up: this.router.primary.up, ...this.primaryCheck },
      ...(this.router.set.followPromotion && { primarySwitches: this.router.primary.switches, promotedFrom: this.router.primary.promotedFrom }),
      // A promoted replica the set follows is its primary, above.
      replicas: this.router.hosts.hosts
        .filter((host) => host !== this.router.primary.promoted)
        .map((host) => ({
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
          timeline: host.reading?.timeline,
          checkedAt: host.reading?.at,
          error: host.lastError,
        })),
    };
  }

  close(): void {
    this.primaryProbe.close();
    for (const probe of this.replicaProbes.values()) probe.close();
    this.replicaProbes.clear();
  }

  /** A replica that has left the set is checked no more: its probe's connection closes. */
  private closeProbesOfHostsGone(hosts: readonly ReplicaHost[]): void {
    for (const [host, probe] of this.replicaProbes) {
      if (hosts.includes(host)) continue;
      probe.close();
      this.replicaProbes.delete(host);
    }
  }

  private replicaProbe(host: ReplicaHost): ServerProbe {
    let probe = this.replicaProbes.get(host);
    if (!probe) {
      probe = new ServerProbe(this.ClientClass, host.connectionPool!, this.router.options.health.connectTimeoutMs);
      this.replicaProbes.set(host, probe);
    }
    return probe;
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
    const follow = this.router.set.followPromotion;
    // Once the set followed a promotion, its primary is that replica's server, on its probe.
    const probe = primary.promoted ? this.replicaProbe(primary.promoted) : this.primaryProbe;
    const askedAt = Date.now();
    try {
      const [row] = await probe.query<{ lsn: string; timeline?: number | null }>(follow ? PRIMARY_TIMELINE_SQL : PRIMARY_SQL);
      const lsn = parseLsn(row.lsn);
      if (lsn === undefined) throw new Error(`pg_current_wal_lsn() gave ${JSON.stringify(row.lsn)}, not a WAL position`);
      const timeline = follow ? this.primaryTimeline(row.timeline ?? undefined) : undefined;
      if (!primary.up) this.logger.log(`${name}: primary ${primary.label} answers its health check again.`);
      primary.up = true;
      primary.sawLsn(lsn);
      if (timeline !== undefined) primary.timeline = timeline;
      this.walHistory.record(lsn, askedAt);
      this.primaryCheck = follow ? { checkedAt: Date.now(), timeline } : { checkedAt: Date.now() };
      return lsn;
    } catch (error) {
      const message = errorText(error);
      const cut = primary.checkedOut.cutAll();
      if (primary.up || cut > 0) {
        const cutNote = cut > 0 ? `; cut the ${cut} checked-out connection${cut === 1 ? '' : 's'} waiting on it, so their statements fail` : '';
        this.logger.error(
          `${name}: primary ${primary.label} failed its health check (${message})${cutNote}; writes and pinned reads of the set fail until it answers.`,
        );
      }
      primary.up = false;
      this.primaryCheck = follow ? { error: message, timeline: primary.timeline } : { error: message };
      return undefined;
    }
  }

  /**
   * The timeline the primary's check read, checked: a server on an older timeline than the set's
   * primary had is never written to (an old primary back at a followed replica's address, or a
   * restored one), so its check fails.
   */
  private primaryTimeline(read: number | undefined): number | undefined {
    const known = this.router.primary.timeline;
    if (read === undefined) return known;
    if (known !== undefined && read < known) {
      throw new Error(`it is on timeline ${read}, older than the set's primary's (${known}): a server on an older timeline is never written to`);
    }
    return read;
  }

  /**
   * The primary is lost: if a replica left recovery on a newer timeline than the primary had, the
   * set's writes and pinned reads go to it from now on (promotionCandidate decides).
   */
  private followPromotion(readings: PromotionReading<ReplicaHost>[]): void {
    const { name, primary } = this.router;
    const verdict = promotionCandidate(primary.timeline, readings);
    if (verdict.kind === 'ambiguous') {
      const servers = verdict.servers.map((host) => host.label).join(' and ');
      if (`${verdict.timeline} ${servers}` === this.ambiguousLogged) return;
      this.ambiguousLogged = `${verdict.timeline} ${servers}`;
      this.logger.error(
        `${name}: replicas ${servers} are all out of recovery on timeline ${verdict.timeline}: each may have writes the others lack, ` +
          'so the set follows none of them, and its writes fail until only one is left or the primary answers.',
      );
      return;
    }
    if (verdict.kind !== 'promoted') return;
    const from = primary.label;
    const fromTimeline = primary.timeline;
    const host = verdict.server;
    primary.switchTo(host, verdict.timeline);
    this.primaryCheck = { checkedAt: host.reading?.at, timeline: verdict.timeline };
    this.logger.warn(
      `${name}: primary ${from} (timeline ${fromTimeline}) is lost and replica ${host.label} was promoted on timeline ${verdict.timeline}: ` +
        `writes and pinned reads of the set go to ${host.label} from now on, and ${from} is never written to again while its timeline is older.`,
    );
  }

  /** After a followed promotion, a replica serves reads only once it follows the new primary: in recovery on its timeline (or a newer one). */
  private checkTimeline(host: ReplicaHost): void {
    const { name, primary } = this.router;
    const reading = host.reading;
    if (!reading?.inRecovery || primary.timeline === undefined) return;
    const off = !onPrimaryTimeline(reading.timeline, primary.timeline);
    if (off === host.offTimeline) return;
    host.offTimeline = off;
    if (off) {
      this.logger.warn(
        `${name}: replica ${host.label} is on timeline ${reading.timeline ?? 'unknown'}, not the primary's (${primary.timeline}): it serves no reads until it follows ${primary.label}.`,
      );
    } else {
      this.logger.log(`${name}: replica ${host.label} follows ${primary.label} on timeline ${reading.timeline} and serves reads again.`);
    }
  }

  /** Returns whether the replica answered. */
  private async checkReplica(host: ReplicaHost, primaryLsn: bigint | undefined): Promise<boolean> {
    const { name } = this.router;
    const follow = this.router.set.followPromotion;
    let row: ReplicaRow;
    try {
      [row] = await this.replicaProbe(host).query<ReplicaRow>(follow ? REPLICA_TIMELINE_SQL : REPLICA_SQL);
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
      return false;
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
    host.reading = { ...lag, inRecovery: row.recovery, replayLsn, timeline: row.timeline ?? undefined, at: now };
    // followPromotion, the primary lost: a replica promoted on a newer timeline is its successor (see followPromotion), not a misconfiguration.
    const { primary } = this.router;
    const successor = follow && !primary.up && !row.recovery && primary.timeline !== undefined && (row.timeline ?? 0) > primary.timeline;

    if (host.promoted && !wasPromoted && successor) {
      this.logger.log(`${name}: replica ${host.label} left recovery on timeline ${row.timeline}: promoted while the primary is lost.`);
    } else if (host.promoted && !wasPromoted) {
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
    return true;
  }
}
