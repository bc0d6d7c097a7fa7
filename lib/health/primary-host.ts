import { CheckedOutConnections } from './checked-out-connections.js';
import type { ReplicaHost } from './replica-host.js';

/**
 * A set's primary, as routing and the health monitor know it: the configured primary, or (with
 * `followPromotion`) the replica the set's writes followed when it was promoted on a newer
 * timeline. Once followed, the set's primary is that server for the life of the app, or until
 * another promotion on a newer timeline still: a server on an older timeline is never written to.
 */
export class PrimaryHost {
  /** Connections checked out of the configured primary's pool, cut when its health check fails. */
  readonly connections = new CheckedOutConnections();
  /** False from a failed health check until one passes. */
  up = true;
  /** The current primary's WAL position as last read (health check, or a write's commit); undefined until one is. */
  lastLsn?: bigint;
  /** The current primary's timeline as its last check read it (followPromotion only); undefined until one has. */
  timeline?: number;
  /** The replica that took over as the primary; undefined: the configured primary still is. */
  promoted?: ReplicaHost;
  /** The primary before the last switch (host:port). */
  promotedFrom?: string;
  /** Switches to a promoted replica so far. */
  switches = 0;

  constructor(
    /** host:port of the configured primary */
    readonly configuredLabel: string,
  ) {}

  /** host:port of the current primary. */
  get label(): string {
    return this.promoted?.label ?? this.configuredLabel;
  }

  /** The current primary's checked-out connections: a promoted replica's pool tracks its own. */
  get checkedOut(): CheckedOutConnections {
    return this.promoted?.connections ?? this.connections;
  }

  /** Records a WAL position read from the primary: positions only move forward. */
  sawLsn(lsn: bigint): void {
    if (this.lastLsn === undefined || lsn > this.lastLsn) this.lastLsn = lsn;
  }

  /**
   * From now on `host` is the primary, on `timeline`. The positions seen so far were the old
   * primary's: a token is clamped to the new one's (SetRouter.withinPrimary), which is read anew.
   */
  switchTo(host: ReplicaHost, timeline: number): void {
    this.promotedFrom = this.label;
    this.promoted = host;
    this.timeline = timeline;
    this.lastLsn = undefined;
    this.up = true;
    this.switches++;
  }
}
