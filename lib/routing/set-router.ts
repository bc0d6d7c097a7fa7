import { Logger } from '@nestjs/common';
import type { Pool } from 'pg';
import type { PostgresDriver } from 'typeorm/driver/postgres/PostgresDriver.js';
import type { PostgresDataSourceOptions as PostgresConnectionOptions } from '../typeorm/typeorm-compat.js';
import { ReplicaScopeWriteError } from '../errors/replica-scope-write.error.js';
import { UnpinnedWriteError } from '../errors/unpinned-write.error.js';
import { HostList } from '../health/host-list.js';
import { PrimaryHost } from '../health/primary-host.js';
import { ReplicaHost } from '../health/replica-host.js';
import type { ResolvedPinDbOptions, ResolvedSet } from '../options/resolve-options.js';
import { parseLsn } from '../tokens/lsn.js';
import type { PinToken, SetToken } from '../tokens/pin-token.js';
import type { TokenSetSource } from '../tokens/pin-tokens.js';
import { ContextState, innermostScope, RoutingFrame, Target } from './context-state.js';
import { ReadInputs, ReadRoute, routeRead, withinMaxLag, WriteVerdict, writeVerdict } from './read-policy.js';
import { ReplayWaiter } from './replay-wait.js';
import { ReplayReading, ReplayWatch } from './replay-watch.js';
import type { RoutingEvents } from './routing-events.js';
import type { ServerRole } from './routing-stats.js';

/** Key under which a set's TypeORM options carry its router to the DataSource factory. */
export const SET_ROUTER = Symbol('pindb:set-router');

export type RoutedTypeOrmOptions = PostgresConnectionOptions & { [SET_ROUTER]?: SetRouter };

/** Where a read goes: a replica, the primary by the routing policy, or (undefined) the primary because no replica can serve it. */
export type ReadPlan = ReplicaHost | 'primary' | undefined;

/** What a set router asks of the tokens: the context's verified token, and the client's stored one. */
export interface ContextTokens {
  /** The context's verified token (verifying what the client sent on first use). */
  accept(context: ContextState): PinToken;
  /** Loads the client's token from the pin store if the request can name its key now; undefined when there is nothing to wait for. */
  loadStored(context: ContextState): Promise<void> | undefined;
}

/**
 * The routing decisions of one database set: where its reads go, whether a write may go ahead,
 * which replica serves the next read. TypeORM's hooks ask it; RoutingService reports it. The
 * decisions themselves are the pure functions of read-policy.ts; this class gathers their inputs.
 */
export class SetRouter implements TokenSetSource {
  /** The replicas of sets.<name>.replicas, in their order: TypeORM's `slaves`, one pool each. */
  readonly configuredHosts: readonly ReplicaHost[];
  /** The replicas now: the configured ones, then those discovered (replaceHosts swaps the list). */
  private hostList: HostList;
  /** The set's primary: up or down, its last known WAL position, its checked-out connections. */
  readonly primary: PrimaryHost;
  /** The set's one poll loop for replay positions, shared by every read and awaitReplication() that waits. */
  readonly replayWatch: ReplayWatch;
  private readonly replayWaiter: ReplayWaiter;
  private readonly logger = new Logger('PinDb');
  private driver?: PostgresDriver;
  private readonly inputs: ReadInputs = {
    hasReplicas: false,
    defaultTarget: 'replica',
    forcedReplica: false,
    pinned: false,
    readsFromPrimary: false,
    behind: false,
    primaryDown: false,
  };

  constructor(
    readonly set: ResolvedSet,
    readonly options: ResolvedPinDbOptions,
    private readonly tokens: ContextTokens,
    private readonly events?: RoutingEvents,
  ) {
    this.primary = new PrimaryHost(set.primary.label);
    const replicas = options.enabled ? set.replicas : [];
    this.configuredHosts = replicas.map((replica, i) => new ReplicaHost(i, replica.label, options.health, replica));
    this.hostList = new HostList(this.configuredHosts, options.replicaSelection, { zone: options.zone });
    this.replayWatch = new ReplayWatch({ readable: () => this.hosts.hosts.filter(readable), read: readReplay });
    this.replayWaiter = new ReplayWaiter(this.name, () => this.hosts, this.replayWatch, options.replayWaitMs, events);
  }

  /** The set's replicas and the choice among them: read it anew each time, since discovery swaps it. */
  get hosts(): HostList {
    return this.hostList;
  }

  /**
   * Makes `hosts` the set's replicas (replica discovery). The list is swapped whole: a read in
   * flight holds its ReplicaHost, not a place in the list, so it ends where it started; the next
   * choice is among the new hosts.
   */
  replaceHosts(hosts: readonly ReplicaHost[]): void {
    this.hostList = this.hostList.withHosts(hosts);
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

  /** Some replica may serve a read now (up, in recovery, not lagging); with `frame`, within its replica scope's maxLagMs too. */
  hasReadableReplica(frame?: RoutingFrame): boolean {
    const route = frame ? this.route(frame) : undefined;
    const maxLagMs = route?.to === 'replica' ? route.maxLagMs : undefined;
    return this.hosts.hosts.some((host) => readable(host) && withinMaxLag(host.reading, maxLagMs));
  }

  /** Where the next read of this set goes in `frame`, as far as it is known without asking a server. */
  target(frame: RoutingFrame | undefined): Target {
    return this.route(frame).to;
  }

  /**
   * The replica for the next read in `frame` ('primary': the policy sends it there; undefined: no
   * replica can serve it, so it falls back to the primary): by replicaSelection among
   * readable replicas, and when the client's token asks for a WAL position, among those that have
   * replayed it. Asynchronous only when it must ask: the pin store for a cookieless client's
   * token, or the replicas how far they have replayed. `avoid`: a replica the read just failed on.
   */
  planRead(frame: RoutingFrame | undefined, avoid?: ReplicaHost): ReadPlan | Promise<ReadPlan> {
    if (frame && this.hosts.size > 0) {
      const loading = this.tokens.loadStored(frame.context);
      if (loading) return loading.then(() => this.planRead(frame, avoid));
    }
    const route = this.route(frame);
    if (route.to === 'primary') return 'primary';
    if (route.atLeast === undefined) {
      const { maxLagMs } = route;
      if (maxLagMs === undefined && !avoid) return this.hosts.next(readable);
      // A replica scope's maxLagMs: only replicas that close behind serve it; none is: the primary (a fallback).
      return this.hosts.next((host) => host !== avoid && readable(host) && withinMaxLag(host.reading, maxLagMs));
    }
    return this.caughtUpReplica(frame!.context, route.atLeast, avoid);
  }

  /**
   * The routing policy's answer for `frame`. Its inputs go in one object per router, filled anew
   * for each call (routing is synchronous, so no two calls share it): this runs twice per read.
   */
  private route(frame: RoutingFrame | undefined): ReadRoute {
    const inputs = this.inputs;
    inputs.hasReplicas = this.hosts.size > 0;
    inputs.defaultTarget = this.options.defaultTarget;
    inputs.primaryDown = !this.primary.up;
    if (!frame) {
      inputs.scoped = inputs.scopedMaxLagMs = inputs.forcedMaxLagMs = undefined;
      inputs.forcedReplica = inputs.pinned = inputs.readsFromPrimary = inputs.behind = false;
      inputs.entry = undefined;
      return routeRead(inputs);
    }
    const { context } = frame;
    const name = this.name;
    const scope = innermostScope(frame, name);
    inputs.scoped = scope?.target;
    inputs.scopedMaxLagMs = scope?.maxLagMs;
    const forced = context.forcedReplicaOptions(name);
    inputs.forcedReplica = forced !== undefined;
    inputs.forcedMaxLagMs = forced?.maxLagMs;
    inputs.pinned = context.isPinned(name);
    inputs.readsFromPrimary = context.readsFromPrimary(name);
    inputs.entry = this.tokenEntry(context);
    inputs.behind = context.isBehind(name);
    return routeRead(inputs);
  }

  /**
   * Whether `frame`'s token asks reads of this set for a WAL position that no readable replica has
   * replayed yet, so that they would go to the primary. Asks the replicas as planRead does (once
   * per context, the answer kept in it, after waiting up to replayWaitMs as a read would), for
   * work that would rather wait than read the primary:
   * jobs with 'delayed' consistency. False when the token asks nothing of replicas.
   */
  async waitsForReplay(frame: RoutingFrame): Promise<boolean> {
    const route = this.route(frame);
    if (route.to === 'replica' && route.atLeast !== undefined) await this.caughtUpReplica(frame.context, route.atLeast, undefined);
    return frame.context.isBehind(this.name);
  }

  /** The current primary's pool: TypeORM's master pool, or a promoted replica's once followed (PrimaryHost.switchTo). */
  get primaryPool(): Pool | undefined {
    return this.primary.promoted?.connectionPool ?? this.driver?.master;
  }

  async primaryLsn(): Promise<bigint> {
    const { rows } = await this.primaryPool!.query('SELECT pg_current_wal_insert_lsn()::text AS lsn');
    const lsn = parseLsn(rows[0].lsn)!;
    this.primary.sawLsn(lsn);
    return lsn;
  }

  caughtUpEverywhere(context: ContextState, lsn: bigint): boolean {
    // A promoted replica the set follows is its primary: it replays nothing.
    return this.hosts.hosts.every((host) => host === this.primary.promoted || (context.replayed.get(host.label) ?? -1n) >= lsn);
  }

  /**
   * Called before a write is sent to the primary: checkWrite, then the set is pinned for the rest
   * of the context (and so gets a read-your-writes token when it ends). Outside any context
   * nothing is checked or recorded.
   */
  beforeWrite(frame: RoutingFrame | undefined): void {
    if (!frame || !this.options.enabled) return;
    this.checkWrite(frame);
    frame.context.pin([this.name]);
  }

  /**
   * Throws if a write may not go ahead in `frame`, pinning nothing: ReplicaScopeWriteError inside
   * a replica scope with preventWrites, UnpinnedWriteError in strict mode unless the set is pinned
   * or the write is inside usePrimary.
   */
  checkWrite(frame: RoutingFrame | undefined): void {
    const verdict = this.verdictFor(frame);
    if (verdict === 'prevented-by-scope') throw new ReplicaScopeWriteError(this.name, 'routing.useReplica');
    if (verdict === 'prevented-by-decorator') throw new ReplicaScopeWriteError(this.name, '@UseReplica');
    if (verdict === 'unpinned') throw new UnpinnedWriteError(this.name);
  }

  /**
   * Whether a call that may write (a function not known to be read-only, on the primary) can be
   * sent as a write: false when strict mode would refuse one, so the runner finds out first in a
   * READ ONLY transaction. Inside a replica scope with preventWrites it is true: beforeWrite then
   * refuses the call with ReplicaScopeWriteError before anything is sent.
   */
  mayWrite(frame: RoutingFrame | undefined): boolean {
    return this.verdictFor(frame) !== 'unpinned';
  }

  private verdictFor(frame: RoutingFrame | undefined): WriteVerdict {
    if (!frame || !this.options.enabled) return 'write';
    const name = this.name;
    const scope = innermostScope(frame, name);
    return writeVerdict({
      strict: this.options.mode === 'strict',
      pinned: frame.context.isPinned(name),
      scoped: scope?.target,
      scopedPreventsWrites: scope?.preventWrites === true,
      forcedPreventsWrites: frame.context.forcedReplicaOptions(name)?.preventWrites === true,
    });
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
    // A replica discovery just dropped: its pool is closing, which is no outage.
    if (!host.retired && host.markDown(error)) {
      this.logger.warn(
        `${this.name}: replica ${host.label} is down (${host.lastError}); its reads go to the other servers until a health check passes, in ${this.options.health.cooldownMs} ms at the earliest.`,
      );
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
    if (frame?.context.isBehind(this.name)) return;
    frame?.context.stats.fallback(this.name);
    this.events?.fallback(this.name);
  }

  /** A replica refused a statement as a write (SQLSTATE 25006): it runs again on the primary, pinned. */
  retriedOnPrimary(frame: RoutingFrame | undefined, sql: string): void {
    this.logger.warn(`${this.name}: a replica refused this statement as read-only, so it ran on the primary and the set is pinned: ${sql.slice(0, 300)}`);
    this.retried(frame);
  }

  private retried(frame: RoutingFrame | undefined): void {
    frame?.context.stats.retry(this.name);
    this.events?.retry(this.name);
  }

  private tokenEntry(context: ContextState): SetToken | undefined {
    const entry = this.tokens.accept(context).get(this.name);
    return entry && entry.expiresAt > Date.now() ? entry : undefined;
  }

  private async caughtUpReplica(context: ContextState, wanted: bigint, avoid: ReplicaHost | undefined): Promise<ReplicaHost | undefined> {
    const lsn = await this.withinPrimary(wanted);
    await this.readReplayPositions(context, lsn);
    const caughtUp = (candidate: ReplicaHost) => candidate !== avoid && readable(candidate) && (context.replayed.get(candidate.label) ?? -1n) >= lsn;
    let host = this.hosts.next(caughtUp);
    // replayWaitMs: a replica a moment behind serves the read after a short wait, rather than the primary.
    if (!host && this.replayWaiter.mayWait(context) && this.hosts.hosts.some((candidate) => candidate !== avoid && readable(candidate))) {
      await this.replayWaiter.wait(context, lsn, avoid);
      host = this.hosts.next(caughtUp);
    }
    if (!host) context.fellBehind(this.name);
    return host;
  }

  /**
   * routing.awaitReplication(): whether every readable replica has replayed what `context` wrote
   * to the set (its last commit's position; the primary's current one when a write's position is
   * not known), waiting up to `timeoutMs` on the shared poll loop. True at once without writes.
   */
  async awaitReplication(context: ContextState, timeoutMs: number): Promise<boolean> {
    const writes = context.writes.get(this.name);
    if (!writes || !this.options.enabled || this.hosts.size === 0) return true;
    const lsn = writes.settled && writes.committedLsn !== undefined ? writes.committedLsn : await this.primaryLsn();
    return this.replayWatch.everyReplayed(lsn, timeoutMs);
  }

  /**
   * A token's position, no further than the current primary's own: a validly signed token from a
   * primary that was since rebuilt (restored, re-initialised), or from the old primary of a
   * followed promotion, could otherwise keep every read on the primary. Past the last position
   * seen, the primary is asked, since another instance of the app may have issued the token for a
   * write just now.
   */
  private async withinPrimary(lsn: bigint): Promise<bigint> {
    const seen = this.primary.lastLsn;
    if (seen !== undefined && lsn <= seen) return lsn;
    try {
      const current = await this.primaryLsn();
      return lsn <= current ? lsn : current;
    } catch {
      return lsn; // the primary cannot say: keep the token as it is
    }
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
            const { lsn: replayed, version } = (await readReplay(host)) ?? {};
            if (version !== undefined) this.replayWatch.versions.set(host.label, version);
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
        slaves: this.configuredHosts.map((host) => this.set.replicas[host.index].options),
      },
      [SET_ROUTER]: this,
    } as RoutedTypeOrmOptions;
  }
}

function readable(host: ReplicaHost): boolean {
  return host.readable;
}

/** How far a replica has replayed, and its server_version_num (whether it has WAIT FOR LSN), on its pool. */
async function readReplay(host: ReplicaHost): Promise<ReplayReading | undefined> {
  const [row] = await host.query<{ lsn: string | null; version: number | null }>(
    "SELECT pg_last_wal_replay_lsn()::text AS lsn, current_setting('server_version_num')::int AS version",
  );
  return row && { lsn: parseLsn(row.lsn), version: row.version ?? undefined };
}
