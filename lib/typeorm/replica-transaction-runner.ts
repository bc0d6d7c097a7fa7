import { QueryRunnerAlreadyReleasedError } from 'typeorm';
import { PostgresQueryRunner } from 'typeorm/driver/postgres/PostgresQueryRunner.js';
import { ReplicaTransactionControlError } from '../errors/replica-transaction-control.error.js';
import type { ReplicaHost } from '../health/replica-host.js';
import type { RoutingFrame } from '../routing/context-state.js';
import { PinDbContext } from '../routing/pin-db.context.js';
import { classifyStatement } from '../routing/statement-kind.js';
import { ConnectionLease, type PooledConnection } from './connection-lease.js';
import type { RoutedPostgresDriver } from './routed-postgres-driver.js';
import type { PostgresIsolationLevel } from './typeorm-compat.js';

type Stream = Awaited<ReturnType<PostgresQueryRunner['stream']>>;

/**
 * The query runner of `routing.replicaTransaction()`: bound to one connection chosen before it
 * was made (a replica that may serve the context, else the primary), holding one READ ONLY
 * transaction there. Its statements are not routed: none moves to the primary, pins its set or is
 * sent again elsewhere, since a snapshot lives on one server. A write fails with the server's own
 * error (SQLSTATE 25006), and a lost connection fails the transaction.
 */
export class ReplicaTransactionRunner extends PostgresQueryRunner {
  declare driver: RoutedPostgresDriver;
  private readonly lease: ConnectionLease;
  /** The replica it is bound to (undefined: the primary). */
  readonly replica: ReplicaHost | undefined;
  /** The runner itself sends START TRANSACTION / COMMIT / ROLLBACK; fn may not. */
  private ownControl = false;

  constructor(
    driver: RoutedPostgresDriver,
    connection: PooledConnection,
    readonly isolation: PostgresIsolationLevel,
  ) {
    super(driver, connection.replica ? 'slave' : 'master');
    this.lease = new ConnectionLease(Promise.resolve(connection), (connected) => {
      // It broke before or while the runner held it: it is never pooled again.
      if (connected.error) this.lease.destroyOnRelease(connected.error);
      connected.onError = (error) => this.lease.destroyOnRelease(error);
    });
    this.replica = connection.replica;
    this.databaseConnection = connection.client;
    driver.connectedQueryRunners.push(this);
  }

  /**
   * Opens the READ ONLY transaction and takes its snapshot at once (the SELECT): from then on
   * PostgreSQL refuses `SET TRANSACTION READ WRITE`, so nothing fn sends can make it writable.
   */
  async begin(): Promise<void> {
    await this.control(`START TRANSACTION ISOLATION LEVEL ${this.isolation} READ ONLY; SELECT 1`);
    this.isTransactionActive = true;
    this.transactionDepth = 1;
  }

  /** COMMIT (fn resolved) or ROLLBACK (fn threw). */
  async end(commit: boolean): Promise<void> {
    this.transactionDepth = 0;
    this.isTransactionActive = false;
    await this.control(commit ? 'COMMIT' : 'ROLLBACK');
  }

  override connect(): Promise<any> {
    if (this.isReleased) return Promise.reject(new QueryRunnerAlreadyReleasedError());
    return this.lease.ready;
  }

  override release(): Promise<void> {
    if (this.isReleased) return Promise.resolve();
    this.isReleased = true;
    this.databaseConnection = undefined;
    this.lease.retire();
    const index = this.driver.connectedQueryRunners.indexOf(this);
    if (index !== -1) this.driver.connectedQueryRunners.splice(index, 1);
    return Promise.resolve();
  }

  override query(sql: string, parameters?: any[], useStructuredResult = false): Promise<any> {
    if (this.isReleased) return Promise.reject(new QueryRunnerAlreadyReleasedError());
    const kind = classifyStatement(sql);
    if (!this.ownControl && (kind.beginsTransaction || kind.endsTransaction))
      return Promise.reject(new ReplicaTransactionControlError(this.driver.router.name));
    // State beyond the transaction (SET, PREPARE, …) must not reach the next holder of the connection.
    if (kind.sessionState) this.lease.destroyOnRelease();
    const frame = PinDbContext.current();
    this.lease.use();
    return super.query(sql, parameters, useStructuredResult).finally(() => {
      this.countSent(frame);
      this.lease.done();
    });
  }

  override async stream(sql: string, parameters?: any[], onEnd?: Function, onError?: Function): Promise<Stream> {
    if (this.isReleased) throw new QueryRunnerAlreadyReleasedError();
    const frame = PinDbContext.current();
    this.lease.use();
    let stream: Stream;
    try {
      stream = await super.stream(sql, parameters, onEnd, onError);
    } catch (error) {
      this.lease.done();
      throw error;
    }
    this.countSent(frame);
    let settled = false;
    const settle = () => {
      if (settled) return;
      settled = true;
      this.lease.done();
    };
    for (const event of ['end', 'error', 'close']) stream.once(event, settle);
    return stream;
  }

  /** query() checks the flag before it first awaits: a statement fn sends meanwhile is still checked. */
  private control(sql: string): Promise<void> {
    this.ownControl = true;
    try {
      return this.query(sql);
    } finally {
      this.ownControl = false;
    }
  }

  private countSent(frame: RoutingFrame | undefined): void {
    const { router } = this.driver;
    const replica = this.replica;
    router.recordQuery(frame, replica ? 'replica' : 'primary', replica ? replica.label : router.primary.label);
  }
}
