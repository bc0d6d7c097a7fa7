import type { DataSource, EntityManager, ReplicationMode } from 'typeorm';
import { PostgresDriver } from 'typeorm/driver/postgres/PostgresDriver.js';
import type { PostgresQueryRunner } from 'typeorm/driver/postgres/PostgresQueryRunner.js';
import type { PoolClient } from 'pg';
import type { PostgresConnectionCredentialsOptions } from 'typeorm/driver/postgres/PostgresConnectionCredentialsOptions.js';
import type { PostgresDataSourceOptions } from './typeorm-compat.js';
import { NoDatabaseAvailableError } from '../errors/no-database-available.error.js';
import type { ReplicaHost } from '../health/replica-host.js';
import type { RoutingFrame } from '../routing/context-state.js';
import { PinDbContext } from '../routing/pin-db.context.js';
import type { SetRouter } from '../routing/set-router.js';
import { checkedOut, type PooledConnection, type ReleaseConnection } from './connection-lease.js';
import { ReplicaTransactionRunner } from './replica-transaction-runner.js';
import { RoutedQueryRunner } from './routed-query-runner.js';
import { createServerPool } from './server-pools.js';
import type { PostgresIsolationLevel } from './typeorm-compat.js';

/**
 * TypeORM's postgres driver for one database set, with its connections chosen by the set's
 * router: a read-mode runner's connection comes from a readable replica (by replicaSelection, and
 * caught up with the client's token), a replica that fails to connect is marked down and the next
 * one is tried, then the primary; a primary that cannot be reached is a NoDatabaseAvailableError
 * naming the set and the server. Its pools are made per server (server-pools.ts), and its query
 * runners are RoutedQueryRunners.
 */
export class RoutedPostgresDriver extends PostgresDriver {
  constructor(
    private readonly owner: DataSource,
    readonly router: SetRouter,
  ) {
    super(owner);
    router.attach(this);
  }

  protected override createPool(options: PostgresDataSourceOptions, credentials: PostgresConnectionCredentialsOptions): Promise<any> {
    return createServerPool(this.router, this.postgres.Pool, options, credentials, (poolOptions, poolCredentials) =>
      super.createPool(poolOptions, poolCredentials),
    );
  }

  override createQueryRunner(mode: ReplicationMode): PostgresQueryRunner {
    return new RoutedQueryRunner(this, mode);
  }

  /**
   * A runner for routing.replicaTransaction(), bound to `connection` (from connectForRead: the
   * server is chosen before the runner exists), and the EntityManager that uses it.
   */
  createReplicaTransactionRunner(
    connection: PooledConnection,
    isolation: PostgresIsolationLevel,
  ): { runner: ReplicaTransactionRunner; manager: EntityManager } {
    const runner = new ReplicaTransactionRunner(this, connection, isolation);
    // As DataSource.createQueryRunner does: the manager binds itself to the runner (runner.manager).
    return { runner, manager: this.owner.createEntityManager(runner) };
  }

  override obtainMasterConnection(): Promise<[any, Function]> {
    return this.connectToPrimary().then(({ client, release }) => [client, release]);
  }

  /** For callers outside nestjs-pindb's runners: the connection a read in the current context would get. */
  override obtainSlaveConnection(): Promise<[any, Function]> {
    return this.connectForRead(PinDbContext.current()).then(({ client, release }) => [client, release]);
  }

  /**
   * A connection to the set's current primary: TypeORM's master pool, or, once the set followed a
   * promotion (sets.<name>.followPromotion), the promoted replica's pool. Either way it is a
   * primary connection (no `replica` on it): writes, commit positions and pins work as on the
   * configured primary.
   */
  connectToPrimary(): Promise<PooledConnection> {
    return new Promise((resolve, reject) => {
      const pool = this.router.primaryPool;
      const server = this.router.primary.label;
      if (!pool) return reject(new NoDatabaseAvailableError(this.router.name, server, { cause: new Error('the DataSource is not initialized') }));
      pool.connect((error: Error | undefined, client: PoolClient | undefined, release: ReleaseConnection) => {
        if (error || !client) reject(new NoDatabaseAvailableError(this.router.name, server, { cause: error }));
        else resolve(checkedOut(client, release));
      });
    });
  }

  /**
   * The connection for a read in `frame`: the router's choice. pg's callback API in one promise,
   * rather than an async function around pool.connect(): this runs for every read, and the choice
   * is synchronous unless it must ask the pin store or the replicas first. `avoid`: a replica the
   * read just failed on.
   */
  connectForRead(frame: RoutingFrame | undefined, avoid?: ReplicaHost): Promise<PooledConnection> {
    const plan = this.router.planRead(frame, avoid);
    return plan instanceof Promise ? plan.then((host) => this.connectTo(host, frame, avoid)) : this.connectTo(plan, frame, avoid);
  }

  private connectTo(plan: ReplicaHost | 'primary' | undefined, frame: RoutingFrame | undefined, avoid: ReplicaHost | undefined): Promise<PooledConnection> {
    if (plan === 'primary') return this.connectToPrimary();
    if (plan === undefined) {
      this.router.fellBackToPrimary(frame);
      return this.connectToPrimary();
    }
    return new Promise((resolve) =>
      plan.connectionPool!.connect((error, client, release) => {
        if (error || !client) {
          // Marked down, so the next choice skips it: the loop ends at the primary at the latest.
          this.router.replicaFailed(plan, error, frame);
          return resolve(this.connectForRead(frame, avoid));
        }
        resolve(checkedOut(client, release, plan));
      }),
    );
  }
}
