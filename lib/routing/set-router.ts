import { Logger } from '@nestjs/common';
import type { PostgresDriver } from 'typeorm/driver/postgres/PostgresDriver.js';
import type { PostgresDataSourceOptions as PostgresConnectionOptions } from 'typeorm/driver/postgres/PostgresDataSourceOptions.js';
import { UnpinnedWriteError } from '../errors/unpinned-write.error.js';
import { HostList } from '../health/host-list.js';
import { ReplicaHost } from '../health/replica-host.js';
import type { ResolvedPinDbOptions, ResolvedSet } from '../options/resolve-options.js';
import { parseLsn } from '../tokens/lsn.js';
import type { PinToken, SetToken } from '../tokens/pin-token.js';
import type { TokenSetSource } from '../tokens/pin-tokens.js';
import { ContextState, RoutingFrame, scopedTarget, Target } from './context-state.js';
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
  private readonly logger = new Logger('PinDb');
  private driver?: PostgresDriver;

  constructor(
    readonly set: ResolvedSet,
    private readonly options: ResolvedPinDbOptions,
    /** The context's verified token (verifying what the client sent on first use). */
    private readonly tokenOf: (context: ContextState) => PinToken,
  ) {
    const replicas = options.enabled ? set.replicas : [];
    this.hosts = new HostList(
      replicas.map((replica, i) => new ReplicaHost(i, replica.label)),
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

  /** Where the next read of this set goes in `frame`. */
  target(frame: RoutingFrame | undefined): Target {
    if (this.hosts.size === 0) return 'primary';
    if (!frame) return 'replica';
    const scoped = scopedTarget(frame, this.name);
    if (scoped) return scoped;
    const { context } = frame;
    if (context.readsForcedToReplica(this.name)) return 'replica';
    if (context.isPinned(this.name)) return 'primary';
    const entry = this.tokenEntry(context);
    // A time-mode entry pins until it expires; an LSN entry keeps reads on replicas that have replayed it.
    if (entry && (entry.lsn === undefined || context.behind.has(this.name))) return 'primary';
    return 'replica';
  }

  /**
   * The replica for the next read: any, by replicaSelection; or, when the client's token asks for a
   * WAL position, one that has replayed it (undefined: none has, read from the primary).
   */
  chooseReplica(frame: RoutingFrame | undefined): ReplicaHost | undefined | Promise<ReplicaHost | undefined> {
    const lsn = frame && this.awaitedLsn(frame);
    if (lsn === undefined) return this.hosts.next(connected);
    return this.caughtUpReplica(frame!.context, lsn);
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
  }

  /** A replica refused a statement as read-only (SQLSTATE 25006): it runs again on the primary, and the set is pinned. */
  retriedOnPrimary(frame: RoutingFrame | undefined, sql: string): void {
    this.logger.warn(
      `${this.name}: a replica refused this statement as read-only, so it ran on the primary and the set is pinned: ${sql.slice(0, 300)}`,
    );
    frame?.context.stats.retry(this.name);
    if (frame && this.options.enabled) frame.context.pin([this.name]);
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

  private async caughtUpReplica(context: ContextState, lsn: bigint): Promise<ReplicaHost | undefined> {
    await this.readReplayPositions(context);
    const host = this.hosts.next((candidate) => connected(candidate) && (context.replayed.get(candidate.label) ?? -1n) >= lsn);
    if (!host) context.behind.add(this.name);
    return host;
  }

  /** Asks each replica not yet asked in this context how far it has replayed, all at once. */
  private async readReplayPositions(context: ContextState): Promise<void> {
    const unknown = this.hosts.hosts.filter((host) => connected(host) && !context.replayed.has(host.label));
    await Promise.all(
      unknown.map(async (host) => {
        try {
          const { rows } = await host.connectionPool!.query('SELECT pg_last_wal_replay_lsn()::text AS lsn');
          const lsn = parseLsn(rows[0]?.lsn);
          if (lsn !== undefined) context.replayed.set(host.label, lsn);
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

function connected(host: ReplicaHost): boolean {
  return host.connectionPool !== undefined;
}
