import { Logger } from '@nestjs/common';
import type { PostgresDataSourceOptions as PostgresConnectionOptions } from 'typeorm/driver/postgres/PostgresDataSourceOptions.js';
import { UnpinnedWriteError } from '../errors/unpinned-write.error.js';
import { HostList } from '../health/host-list.js';
import { ReplicaHost } from '../health/replica-host.js';
import type { ResolvedPinDbOptions, ResolvedSet } from '../options/resolve-options.js';
import { RoutingFrame, scopedTarget, Target } from './context-state.js';
import type { ServerRole } from './routing-stats.js';

/** Key under which a set's TypeORM options carry its router to the DataSource factory. */
export const SET_ROUTER = Symbol('pindb:set-router');

export type RoutedTypeOrmOptions = PostgresConnectionOptions & { [SET_ROUTER]?: SetRouter };

/**
 * The routing decisions of one database set: where its reads go, whether a write may go ahead,
 * which replica serves the next read. TypeORM's hooks ask it; RoutingService reports it.
 */
export class SetRouter {
  readonly hosts: HostList;
  private readonly logger = new Logger('PinDb');

  constructor(
    readonly set: ResolvedSet,
    private readonly options: ResolvedPinDbOptions,
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

  /** Where the next read of this set goes in `frame`. */
  target(frame: RoutingFrame | undefined): Target {
    if (this.hosts.size === 0) return 'primary';
    if (!frame) return 'replica';
    const scoped = scopedTarget(frame, this.name);
    if (scoped) return scoped;
    if (frame.context.readsForcedToReplica(this.name)) return 'replica';
    return frame.context.isPinned(this.name) ? 'primary' : 'replica';
  }

  /**
   * Called before a write is sent to the primary. strict: throws unless the set is pinned or the
   * write is inside usePrimary. Both modes: the set is pinned for the rest of the context, which
   * also marks that the context wrote to it. Outside any context nothing is recorded.
   */
  beforeWrite(frame: RoutingFrame | undefined): void {
    if (!frame || !this.options.enabled) return;
    const { context } = frame;
    if (this.options.mode === 'strict' && !context.isPinned(this.name) && scopedTarget(frame, this.name) !== 'primary') {
      throw new UnpinnedWriteError(this.name);
    }
    context.pin([this.name]);
    context.wrote(this.name);
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
