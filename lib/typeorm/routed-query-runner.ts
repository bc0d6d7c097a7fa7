import { QueryRunnerAlreadyReleasedError, type ReplicationMode } from 'typeorm';
import { PostgresQueryRunner } from 'typeorm/driver/postgres/PostgresQueryRunner.js';
import type { PoolClient } from 'pg';
import { NoDatabaseAvailableError } from '../errors/no-database-available.error.js';
import { ReplicaSessionStateError } from '../errors/replica-session-state.error.js';
import { UnpinnedWriteError } from '../errors/unpinned-write.error.js';
import type { ReplicaHost } from '../health/replica-host.js';
import type { RoutingFrame, SetWrites } from '../routing/context-state.js';
import { PinDbContext } from '../routing/pin-db.context.js';
import { afterFailure } from '../routing/read-policy.js';
import type { SetRouter } from '../routing/set-router.js';
import { classifyStatement, type StatementClass } from '../routing/statement-kind.js';
import { statementFailure } from '../routing/statement-failure.js';
import { parseLsn } from '../tokens/lsn.js';
import { ConnectionLease, type PooledConnection } from './connection-lease.js';
import type { RoutedPostgresDriver } from './routed-postgres-driver.js';

type Stream = Awaited<ReturnType<PostgresQueryRunner['stream']>>;

/** A statement as the runner sends it, kept for sending it again elsewhere. */
interface Statement {
  sql: string;
  parameters?: any[];
  structured: boolean;
  kind: StatementClass;
  frame: RoutingFrame | undefined;
  /** Times it was already sent again. */
  attempt: number;
}

/** How many session-state statements a read-mode runner carries to a new connection; past this it stays where it is. */
const MAX_CARRIED_STATEMENTS = 32;
const POSITION_SQL = 'SELECT pg_current_wal_insert_lsn()::text AS lsn';
/** A statement's send time when nothing measures it (replicaSelection other than 'fastest'). */
const NOT_TIMED = -1;

/**
 * TypeORM's postgres query runner, routed. Every statement is classified (statement-kind.ts) and:
 * - a write (strict mode) is refused before any SQL is sent, or (greedy) pins its set; on a
 *   read-mode runner it moves the runner to the primary first, carrying the session state the
 *   runner set on its replica (SET, set_config, …) by sending those statements again there;
 * - a read on a read-mode runner follows the context: once the set is pinned, the runner moves
 *   to the primary;
 * - a read that calls a function that may write, sent to the primary, counts as a write (strict
 *   mode: it runs in a READ ONLY transaction, and a write inside is UnpinnedWriteError);
 * - after a write commits on the primary, the primary's WAL position is read on the same
 *   connection: the context's read-your-writes token waits for it;
 * - a failure is decided by `afterFailure` (read-policy.ts): a replica's refusal of a write runs
 *   it on the primary (checked and pinned), a lost replica or a recovery conflict sends a read to
 *   another server, a lost primary is NoDatabaseAvailableError and nothing is sent again.
 * The runner owns each connection until it lets go and no statement of it still runs there
 * (connection-lease.ts); a connection with session state is destroyed, not pooled.
 */
export class RoutedQueryRunner extends PostgresQueryRunner {
  declare driver: RoutedPostgresDriver;
  private lease?: ConnectionLease;
  /** Session-state statements run on replica connections: sent again on the next connection, so that the state moves with the runner. */
  private readonly carried: { sql: string; parameters?: any[] }[] = [];
  /** State that cannot be sent again (a cursor WITH HOLD) lives on the current replica connection. */
  private sticky = false;
  /** The replica connection with such state was lost. */
  private stateLost = false;
  private listed = false;
  /** Between BEGIN / START TRANSACTION and COMMIT / ROLLBACK, however they were sent. */
  private transactionOpen = false;
  private wroteInTransaction = false;
  /** strict mode refused START TRANSACTION: TypeORM's ROLLBACK after the error has nothing to undo, and is dropped. */
  private refusedTransaction = false;
  /** The replica the next connection must not come from (a read just failed on it). */
  private avoidNext?: ReplicaHost;
  /** The context's writes of the set this runner has in flight or in its open transaction (counted once). */
  private unsettled?: SetWrites;
  /** When its current connection came (performance.now()): a statement's time on a replica starts no earlier. */
  private connectedAt = 0;

  constructor(driver: RoutedPostgresDriver, mode: ReplicationMode) {
    super(driver, mode);
  }

  private get router(): SetRouter {
    return this.driver.router;
  }

  override connect(): Promise<any> {
    if (this.isReleased) return Promise.reject(new QueryRunnerAlreadyReleasedError());
    return this.currentLease().ready;
  }

  override release(): Promise<void> {
    if (this.isReleased) return Promise.resolve();
    this.isReleased = true;
    this.settleWrites();
    this.dropLease();
    this.unlist();
    return Promise.resolve();
  }

  override query(sql: string, parameters?: any[], useStructuredResult = false): Promise<any> {
    const statement: Statement = { sql, parameters, structured: useStructuredResult, kind: classifyStatement(sql), frame: PinDbContext.current(), attempt: 0 };
    // A call that may write, on a read-mode runner not yet connected: where it lands decides (a
    // replica refuses a write itself; on the primary it is one), so it waits for its connection.
    if (statement.kind.mayWrite && this.mode === 'slave' && !this.lease?.connection && !this.isReleased) {
      return this.currentLease().ready.then(
        () => this.send(statement, false),
        () => this.send(statement, false),
      );
    }
    return this.send(statement, false);
  }

  override async stream(sql: string, parameters?: any[], onEnd?: Function, onError?: Function): Promise<Stream> {
    if (this.isReleased) throw new QueryRunnerAlreadyReleasedError();
    const frame = PinDbContext.current();
    const kind = classifyStatement(sql);
    // As for query(): where a call that may write lands decides.
    if (kind.mayWrite && this.mode === 'slave') await this.currentLease().ready.catch(() => undefined);
    // No READ ONLY probe for a stream: a call that may write is a write here.
    const write = this.route(frame, kind, false, false) !== 'read';
    const lease = this.currentLease();
    lease.use();
    let stream: Stream;
    try {
      stream = await super.stream(sql, parameters, onEnd, onError);
    } catch (error) {
      lease.done();
      throw error;
    }
    this.countSent(frame, lease);
    // Until it ends, its commit position is unknown: a token handed out meanwhile pins by time.
    if (write) this.unsettleWrites(frame);
    let settled = false;
    const settle = () => {
      if (settled) return;
      settled = true;
      if (write && !this.transactionOpen && this.readsPositions(frame)) return void this.readCommitPosition(lease, frame!);
      if (!this.transactionOpen) this.settleWrites();
      lease.done();
    };
    for (const event of ['end', 'error', 'close']) stream.once(event, settle);
    return stream;
  }

  /**
   * Sends one statement where it must go. Not async, with one `.then` per statement: this runs
   * for every query, and on Node 20 each promise costs more once AsyncLocalStorage is in use.
   */
  private send(statement: Statement, discoveredWrite: boolean): Promise<any> {
    if (this.isReleased) return Promise.reject(new QueryRunnerAlreadyReleasedError());
    const { kind, frame } = statement;
    if (this.refusedTransaction && kind.endsTransaction === 'rollback') {
      this.refusedTransaction = false;
      return Promise.resolve(statement.structured ? { records: [], raw: [] } : []);
    }
    let routed: 'read' | 'write' | 'probe';
    try {
      routed = this.route(frame, kind, discoveredWrite, true);
    } catch (error) {
      return Promise.reject(error);
    }
    if (routed === 'probe') return this.sendReadOnly(statement);
    const write = routed === 'write';
    if (write || (this.wroteInTransaction && this.transactionOpen)) this.unsettleWrites(frame);
    const lease = this.currentLease();
    lease.use();
    // Statement times only matter to replicaSelection 'fastest': other sets do not pay for the clock.
    const sentAt = this.router.options.replicaSelection === 'fastest' ? performance.now() : NOT_TIMED;
    // TypeORM's query() takes its connection from connect() before its first await: this lease.
    return super.query(statement.sql, statement.parameters, statement.structured).then(
      (result) => this.succeeded(result, lease, statement, write, sentAt),
      (error) => this.failed(error, lease, statement, write, sentAt),
    );
  }

  /**
   * Where the statement goes, before any SQL is sent: 'write' (to the primary, checked and
   * pinned), 'probe' (strict mode: a call that may write, on an unpinned set, runs in a READ
   * ONLY transaction), or 'read' (where the runner is; a read-mode runner first moves to the
   * primary if the context now reads the set from there).
   */
  private route(frame: RoutingFrame | undefined, kind: StatementClass, discoveredWrite: boolean, mayProbe: boolean): 'read' | 'write' | 'probe' {
    const { router } = this;
    if (this.stateLost) throw new ReplicaSessionStateError(router.name, 'lost its replica connection, and the session state it had set there');
    if (kind.kind === 'write' || discoveredWrite) {
      try {
        router.beforeWrite(frame);
      } catch (error) {
        if (kind.beginsTransaction) this.refusedTransaction = true;
        throw error;
      }
      this.moveToPrimary();
      return 'write';
    }
    if (kind.kind !== 'read') return 'read';
    if (kind.mayWrite && this.mode === 'master') {
      // Inside a transaction the set is pinned already, and its commit gives the position.
      if (this.transactionOpen) {
        this.wroteInTransaction = true;
        return 'read';
      }
      if (mayProbe && !router.mayWrite(frame)) return 'probe';
      router.beforeWrite(frame);
      return 'write';
    }
    if (this.mode === 'slave' && this.lease && !this.sticky && router.target(frame) === 'primary') this.moveToPrimary();
    return 'read';
  }

  private succeeded(result: any, lease: ConnectionLease, statement: Statement, write: boolean, sentAt: number): any {
    const { kind, frame } = statement;
    this.countSent(frame, lease);
    this.measure(lease, sentAt);
    this.track(statement, lease);
    let committed = false;
    if (write && !kind.beginsTransaction) {
      if (this.transactionOpen) this.wroteInTransaction = true;
      else committed = true;
    }
    if (kind.endsTransaction) {
      committed ||= kind.endsTransaction === 'commit' && this.wroteInTransaction;
      this.wroteInTransaction = false;
    }
    if (committed && this.readsPositions(frame) && !lease.replica) return this.readCommitPosition(lease, frame!).then(() => result);
    if (!this.transactionOpen) this.settleWrites();
    lease.done();
    return result;
  }

  private failed(error: unknown, lease: ConnectionLease, statement: Statement, write: boolean, sentAt: number): Promise<any> {
    const { router } = this;
    const { frame, sql } = statement;
    const sent = lease.connection !== undefined;
    if (sent) this.countSent(frame, lease);
    const replica = lease.replica;
    const failure = error instanceof NoDatabaseAvailableError ? 'unreachable' : statementFailure(error);
    // An answer all the same (a statement timeout is a slow one); a lost replica is marked down instead.
    if (sent && failure !== 'unreachable') this.measure(lease, sentAt);
    const action = afterFailure({
      failure,
      onReplica: replica !== undefined,
      inTransaction: this.transactionOpen,
      attempt: statement.attempt,
      replicas: router.hosts.size,
      sessionState: this.sticky ? 'sticky' : this.carried.length > 0 ? 'replayable' : undefined,
    });
    lease.done();
    // An autocommit write that failed committed nothing; one in a transaction waits for its ROLLBACK.
    if (!this.transactionOpen) this.settleWrites();
    // It never connected: the next statement tries again.
    if (!sent && lease === this.lease) this.dropLease();
    const again = { ...statement, attempt: statement.attempt + 1 };
    switch (action) {
      case 'no-database': {
        if (!sent) throw error;
        // Sent, then the connection broke: a write may have been committed. The runner is done
        // with it, as TypeORM's is on a connection error, so a transaction cannot go on elsewhere.
        if ((write || this.transactionOpen) && frame) frame.context.writesOf(router.name).uncertain = true;
        this.settleWrites();
        lease.destroyOnRelease(error as Error);
        this.loseConnection();
        throw new NoDatabaseAvailableError(router.name, router.primary.label, { cause: error });
      }
      case 'write-on-primary':
        // The replica refused it, so nothing was written: strict mode or a preventWrites scope may still refuse it.
        router.checkWrite(frame);
        router.retriedOnPrimary(frame, sql);
        return this.send(again, true);
      case 'another-replica':
        if (failure === 'unreachable') {
          router.replicaFailed(replica!, error, frame);
          lease.destroyOnRelease(error as Error);
        } else {
          router.recoveryConflict(replica!, frame, sql);
          this.avoidNext = replica;
        }
        this.dropLease();
        return this.send(again, false);
      case 'primary':
        router.recoveryConflict(replica!, frame, sql);
        this.moveToPrimary();
        return this.send(again, false);
      default:
        if (failure === 'unreachable' && replica) {
          lease.destroyOnRelease(error as Error);
          this.dropLease();
        }
        throw error;
    }
  }

  /**
   * strict mode, a statement that may write on an unpinned set: it runs in a READ ONLY
   * transaction, so that a write inside fails (25006) and nothing is committed. The transaction
   * statements go straight to the connection: they are the router's, not the app's.
   */
  private sendReadOnly(statement: Statement): Promise<any> {
    const lease = this.currentLease();
    lease.use();
    let client: PoolClient | undefined;
    return lease.ready
      .then((connected) => (client = connected).query('START TRANSACTION READ ONLY'))
      .then(() => super.query(statement.sql, statement.parameters, statement.structured))
      .then(
        async (result) => {
          await client!.query('COMMIT');
          this.countSent(statement.frame, lease);
          return result;
        },
        async (error) => {
          if (client) {
            await client.query('ROLLBACK').catch(() => undefined);
            this.countSent(statement.frame, lease);
          }
          throw statementFailure(error) === 'needs-primary' ? new UnpinnedWriteError(this.router.name) : error;
        },
      )
      .finally(() => lease.done());
  }

  /** Transaction boundaries and session state, as the statement that succeeded set them. */
  private track({ kind, sql, parameters }: Statement, lease: ConnectionLease): void {
    if (kind.beginsTransaction) this.transactionOpen = true;
    else if (kind.endsTransaction) this.transactionOpen = false;
    if (!kind.sessionState || !lease.replica) return;
    lease.destroyOnRelease();
    if (kind.sessionState === 'sticky' || this.carried.length >= MAX_CARRIED_STATEMENTS) this.sticky = true;
    else this.carried.push({ sql, parameters });
  }

  private readsPositions(frame: RoutingFrame | undefined): boolean {
    const { options } = this.router;
    return frame !== undefined && options.enabled && options.consistency === 'lsn';
  }

  /** After a commit: the primary's WAL position on the same connection, for the context's token. */
  private readCommitPosition(lease: ConnectionLease, frame: RoutingFrame): Promise<void> {
    const writes = frame.context.writesOf(this.router.name);
    return lease.connection!.client.query(POSITION_SQL).then(
      ({ rows }) => {
        const lsn = parseLsn(rows[0]?.lsn);
        if (lsn === undefined) {
          writes.uncertain = true;
        } else {
          writes.committed(lsn);
          this.router.primary.sawLsn(lsn);
        }
        this.settleWrites();
        lease.done();
      },
      () => {
        writes.uncertain = true;
        this.settleWrites();
        lease.done();
      },
    );
  }

  /** A write of this runner is on its way: until it settles, a token cannot know the set's position. */
  private unsettleWrites(frame: RoutingFrame | undefined): void {
    if (this.unsettled || !frame || !this.router.options.enabled) return;
    this.unsettled = frame.context.writesOf(this.router.name);
    this.unsettled.unsettled++;
  }

  private settleWrites(): void {
    if (!this.unsettled) return;
    this.unsettled.unsettled--;
    this.unsettled = undefined;
  }

  private currentLease(): ConnectionLease {
    if (this.lease) return this.lease;
    const frame = PinDbContext.current();
    const avoid = this.avoidNext;
    this.avoidNext = undefined;
    const connecting = this.mode === 'slave' ? this.driver.connectForRead(frame, avoid) : this.driver.connectToPrimary();
    const carrying = this.carried.length > 0;
    const lease: ConnectionLease = new ConnectionLease(connecting, (connection) => this.adopt(lease, connection, frame));
    // The state sent again makes it a connection no other runner may get as it is.
    if (carrying) lease.destroyOnRelease();
    this.lease = lease;
    return lease;
  }

  /** A connection for `lease`, before any statement runs on it. */
  private adopt(lease: ConnectionLease, connection: PooledConnection, frame: RoutingFrame | undefined): Promise<void> | undefined {
    connection.onError = (error) => this.connectionFailed(lease, error);
    if (this.lease !== lease) return undefined; // let go of before it connected: the lease releases it
    if (this.router.options.replicaSelection === 'fastest') this.connectedAt = performance.now();
    if (!connection.replica) this.mode = 'master';
    this.databaseConnection = connection.client;
    if (!this.listed) {
      this.listed = true;
      this.driver.connectedQueryRunners.push(this);
    }
    // It broke before it got here: its first statement fails as a lost connection, and is retried as one.
    if (connection.error) lease.destroyOnRelease(connection.error);
    if (this.carried.length === 0) return undefined;
    return this.carryState(connection, frame).catch((error: Error) => {
      lease.destroyOnRelease(error);
      throw error;
    });
  }

  /** Sends the session-state statements again on a new connection, in order. */
  private async carryState(connection: PooledConnection, frame: RoutingFrame | undefined): Promise<void> {
    const role = connection.replica ? 'replica' : 'primary';
    const server = connection.replica?.label ?? this.router.primary.label;
    for (const { sql, parameters } of this.carried) {
      await connection.client.query(sql, parameters);
      this.router.recordQuery(frame, role, server);
    }
    if (!connection.replica) this.carried.length = 0; // on the primary the runner stays: nothing to carry any more
  }

  /** The connection of `lease` broke while the runner held it (between statements, typically). */
  private connectionFailed(lease: ConnectionLease, error: Error): void {
    lease.destroyOnRelease(error);
    if (lease !== this.lease) return;
    if (!lease.replica) {
      this.loseConnection();
      return;
    }
    if (this.sticky) this.stateLost = true;
    this.dropLease();
  }

  /** The primary connection is gone: as TypeORM does on a connection error, the runner is released, so that a transaction cannot go on on another connection. */
  private loseConnection(): void {
    this.isReleased = true;
    this.dropLease();
    this.unlist();
  }

  /** From now on the runner uses the primary; the replica connection it holds goes back once no statement runs on it. */
  private moveToPrimary(): void {
    if (this.mode === 'master') return;
    if (this.sticky) {
      throw new ReplicaSessionStateError(
        this.router.name,
        'holds a cursor declared WITH HOLD (or more session state than it carries) on its replica connection',
      );
    }
    this.mode = 'master';
    this.dropLease();
  }

  private dropLease(): void {
    const lease = this.lease;
    if (!lease) return;
    this.lease = undefined;
    this.databaseConnection = undefined;
    this.sticky = false;
    lease.retire();
  }

  private unlist(): void {
    if (!this.listed) return;
    this.listed = false;
    const index = this.driver.connectedQueryRunners.indexOf(this);
    if (index !== -1) this.driver.connectedQueryRunners.splice(index, 1);
  }

  /**
   * 'fastest' compares replicas by this: a statement's time on its replica, from its send (or its
   * connection's arrival, if later: not the routing, nor a wait for a token) to its answer.
   */
  private measure(lease: ConnectionLease, sentAt: number): void {
    if (sentAt === NOT_TIMED || !lease.replica || lease !== this.lease) return;
    const now = performance.now();
    lease.replica.latency.record(now - Math.max(sentAt, this.connectedAt), now);
  }

  /** Counts a statement once sent, on the server of the connection it went to. */
  private countSent(frame: RoutingFrame | undefined, lease: ConnectionLease): void {
    const replica = lease.replica;
    this.router.recordQuery(frame, replica ? 'replica' : 'primary', replica ? replica.label : this.router.primary.label);
  }
}
