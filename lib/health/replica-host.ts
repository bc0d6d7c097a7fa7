import type { Pool } from 'pg';

/** One replica of a set: its pool once TypeORM has connected, and what it is doing. */
export class ReplicaHost {
  private pool?: Pool;

  constructor(
    readonly index: number,
    /** host:port */
    readonly label: string,
  ) {}

  attach(pool: Pool): void {
    this.pool = pool;
  }

  get connectionPool(): Pool | undefined {
    return this.pool;
  }

  /** Connections checked out of its pool: what 'least-busy' compares. */
  busy(): number {
    return this.pool ? this.pool.totalCount - this.pool.idleCount : 0;
  }
}
