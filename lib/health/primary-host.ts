import { CheckedOutConnections } from './checked-out-connections.js';

/** A set's primary, as routing and the health monitor know it. */
export class PrimaryHost {
  /** Connections checked out of the primary's pool, cut when its health check fails. */
  readonly connections = new CheckedOutConnections();
  /** False from a failed health check until one passes. */
  up = true;
  /** The primary's WAL position as last read (health check, or a write's commit); undefined until one is. */
  lastLsn?: bigint;

  constructor(
    /** host:port */
    readonly label: string,
  ) {}

  /** Records a WAL position read from the primary: positions only move forward. */
  sawLsn(lsn: bigint): void {
    if (this.lastLsn === undefined || lsn > this.lastLsn) this.lastLsn = lsn;
  }
}
