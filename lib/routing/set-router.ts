import { Logger } from '@nestjs/common';
import type { PostgresDriver } from 'typeorm/driver/postgres/PostgresDriver.js';
import type { PostgresDataSourceOptions as PostgresConnectionOptions } from 'typeorm/driver/postgres/PostgresDataSourceOptions.js';
import { UnpinnedWriteError } from '../errors/unpinned-write.error.js';
import { HostList } from '../health/host-list.js';
import { PrimaryHost } from '../health/primary-host.js';
import { ReplicaHost } from '../health/replica-host.js';
import type { ResolvedPinDbOptions, ResolvedSet } from '../options/resolve-options.js';
import { parseLsn } from '../tokens/lsn.js';
import type { PinToken, SetToken } from '../tokens/pin-token.js';
import type { TokenSetSource } from '../tokens/pin-tokens.js';
import { ContextState, RoutingFrame, scopedTarget, Target } from './context-state.js';
import type { RoutingEvents } from './routing-events.js';
import type { ServerRole } from './routing-stats.js';

/** Key under which a set's TypeORM options carry its router to the DataSource factory. */
export const SET_ROUTER = Symbol('pindb:set-router');

export type RoutedTypeOrmOptions = PostgresConnectionOptions & { [SET_ROUTER]?: SetRouter };

/**
 * The routing decisions of one database set: where its reads go, whether a write may go ahead,
 * which replica serves the next read. TypeORM's hooks ask it; RoutingService reports it.
 */
export class SetRouter implements TokenSetSource {
  readonly hosts: HostList;
  /** The set's primary: up or down, its last known WAL position, its checked-out connections. */
  readonly primary: PrimaryHost;
  private readonly logger = new Logger('PinDb');
  private driver?: PostgresDriver;

  constructor(
    readonly set: ResolvedSet,
    readonly options: ResolvedPinDbOptions,
    /** The context's verified token (verifying what the client sent on first use). */
    private readonly tokenOf: (context: ContextState) => PinToken,
    private readonly events?: RoutingEvents,
  ) {
    this.primary = new PrimaryHost(set.primary.label);
    const replicas = options.enabled ? set.replicas : [];
    this.hosts = new HostList(
      replicas.map((replica, i) => new ReplicaHost(i, replica.label, options.health)),
      options.replicaSelection,
    );
  }

  get name(): string {
    return this.set.name;
  }

  /** The driver of the set's DataSource, once created: its pools read WAL positions. */
  attach(driver: PostgresDriver): void {
    this.driver = driver;
  }

  /** The set's DataSource driver, once TypeORM has created it (the health monitor's way in). */
  get attachedDriver(): PostgresDriver | undefined {
    return this.driver;
  }

  /** Some replica may serve a read now (up, in recovery, not lagging). */
  hasReadableReplica(): boolean {
    return this.hosts.hosts.some(readable);
  }

  /** Where the next read of this set goes in `frame`. */
  target(frame: RoutingFrame | undefined): Target {
    if (this.hosts.size === 0) return 'primary';
    if (!frame) return 'replica';
    const scoped = scopedTarget(frame, this.name);
    if (scoped) return scoped;
    const { context } = frame;
    if (context.readsForcedToReplica(this.name)) return 'replica';
    if (context.isPinned(this.name) || context.readsFromPrimary(this.name)) return 'primary';
    const entry = this.tokenEntry(context);
    // A time-mode entry pins until it expires; an LSN entry keeps reads on replicas that have replayed it.
    if (entry && (entry.lsn === undefined || context.behind.has(this.name))) return 'primary';
    return 'replica';
  }

  /**
   * The replica for the next read: any, by replicaSelection; or, when the client's token asks for a
   * WAL position, one that has replayed it (undefined: none has, read from the primary).
   */
  chooseReplica(frame: RoutingFrame | undefined, avoid?: ReplicaHost): ReplicaHost | undefined | Promise<ReplicaHost | undefined> {
    const lsn = frame && this.awaitedLsn(frame);
    if (lsn === undefined) return this.hosts.next(avoid ? (host) => host !== avoid && readable(host) : readable);
    return this.caughtUpReplica(frame!.context, lsn, avoid);
  }

  async primaryLsn(): Promise<bigint> {
    const { rows } = await this.driver!.master.query('SELECT pg_current_wal_insert_lsn()::text AS lsn');
    return parseLsn(rows[0].lsn)!;
  }

  caughtUpEverywhere(context: ContextState, lsn: bigint): boolean {
    return this.hosts.hosts.every((host) => (context.replayed.get(host.label) ?? -1n) >= lsn);
  }

  /**
   * Called before a write is sent to the primary. strict: throws unless the set is pinned or the
   * write is inside usePrimary. Both modes: the set is pinned for the rest of the context (and so
   * gets a read-your-writes token when it ends). Outside any context nothing is recorded.
   */
  beforeWrite(frame: RoutingFrame | undefined): void {
    if (!frame || !this.options.enabled) return;
    const { context } = frame;
    if (this.options.mode === 'strict' && !context.isPinned(this.name) && scopedTarget(frame, this.name) !== 'primary') {
      throw new UnpinnedWriteError(this.name);
    }
    context.pin([this.name]);
  }

  recordQuery(frame: RoutingFrame | undefined, role: ServerRole, server: string): void {
    frame?.context.stats.query(this.name, role, server);
    this.events?.query(this.name, role, server);
  }

  /**
   * A replica could not be reached (connect refused or timed out, connection lost): it is marked
   * down for its cooldown, and the read is retried elsewhere.
   */
  replicaFailed(host: ReplicaHost, error: unknown, frame: RoutingFrame | undefined): void {
    if (host.markDown(error)) {
      this.logger.warn(`${this.name}: replica ${host.label} is down (${host.lastError}); its reads go to the other servers until a health check passes, in ${this.options.health.cooldownMs} ms at the earliest.`);
    }
    this.retried(frame);
  }

  /** A replica cancelled a read to replay WAL (a recovery conflict): the read runs again on another server. */
  recoveryConflict(host: ReplicaHost, frame: RoutingFrame | undefined, sql: string): void {
    this.logger.debug(`${this.name}: replica ${host.label} cancelled a read in a recovery conflict; retrying it elsewhere: ${sql.slice(0, 200)}`);
    this.retried(frame);
  }

  /** A read meant for a replica goes to the primary: no replica could serve it. Behind the client's token is read-your-writes, not a fallback. */
  fellBackToPrimary(frame: RoutingFrame | undefined): void {
    if (frame?.context.behind.has(this.name)) return;
    frame?.context.stats.fallback(this.name);
    this.events?.fallback(this.name);
  }

  /** A replica refused a statement as read-only (SQLSTATE 25006): it runs again on the primary, and the set is pinned. */
  retriedOnPrimary(frame: RoutingFrame | undefined, sql: string): void {
    this.logger.warn(
      `${this.name}: a replica refused this statement as read-only, so it ran on the primary and the set is pinned: ${sql.slice(0, 300)}`,
    );
    this.retried(frame);
    if (frame && this.options.enabled) frame.context.pin([this.name]);
  }

  private retried(frame: RoutingFrame | undefined): void {
    frame?.context.stats.retry(this.name);
    this.events?.retry(this.name);
  }

  private tokenEntry(context: ContextState): SetToken | undefined {
    const entry = this.tokenOf(context).get(this.name);
    return entry && entry.expiresAt > Date.now() ? entry : undefined;
  }

  /** The WAL position this context's reads must see, unless it reads from replicas regardless. */
  private awaitedLsn(frame: RoutingFrame): bigint | undefined {
    if (scopedTarget(frame, this.name) === 'replica' || frame.context.readsForcedToReplica(this.name)) return undefined;
    return this.tokenEntry(frame.context)?.lsn;
  }

  private async caughtUpReplica(context: ContextState, lsn: bigint, avoid: ReplicaHost | undefined): Promise<ReplicaHost | undefined> {
    await this.readReplayPositions(context, lsn);
    const host = this.hosts.next((candidate) => candidate !== avoid && readable(candidate) && (context.replayed.get(candidate.label) ?? -1n) >= lsn);
    if (!host) context.behind.add(this.name);
    return host;
  }

  /**
   * Learns how far each readable replica has replayed, once per context: from the health
   * monitor's last reading when that is already past `lsn`, else by asking the replica (all at once).
   */
  private async readReplayPositions(context: ContextState, lsn: bigint): Promise<void> {
    const unknown = this.hosts.hosts.filter((host) => readable(host) && !context.replayed.has(host.label));
    for (const host of unknown) {
      const replayed = host.reading?.replayLsn;
      if (replayed !== undefined && replayed >= lsn) context.replayed.set(host.label, replayed);
    }
    await Promise.all(
      unknown
        .filter((host) => !context.replayed.has(host.label))
        .map(async (host) => {
          try {
            const [row] = await host.query<{ lsn: string | null }>('SELECT pg_last_wal_replay_lsn()::text AS lsn');
            const replayed = parseLsn(row?.lsn);
            if (replayed !== undefined) context.replayed.set(host.label, replayed);
          } catch {
            // A replica that cannot answer has not caught up, as far as this context knows.
          }
        }),
    );
  }

  typeOrmOptions(): RoutedTypeOrmOptions {
    return {
      ...(this.set.typeorm as object),
      type: 'postgres',
      name: this.name,
      replication: {
        master: this.set.primary.options,
        slaves: this.hosts.hosts.map((host) => this.set.replicas[host.index].options),
      },
      [SET_ROUTER]: this,
    } as RoutedTypeOrmOptions;
  }
}

function readable(host: ReplicaHost): boolean {
  return host.readable;
}
