import type { PoolClient } from 'pg';
import type { ReplicaHost } from '../health/replica-host.js';

/** pg-pool's release: a truthy argument destroys the connection instead of pooling it. */
export type ReleaseConnection = (destroy?: Error | boolean) => void;

/** A pooled connection, and the replica it belongs to (none: the primary). */
export interface PooledConnection {
  readonly client: PoolClient;
  readonly replica?: ReplicaHost;
  /** Back to the pool (or destroyed), no longer watched. */
  release: ReleaseConnection;
  /** Who hears of the connection breaking; an error before anyone listens is kept in `error`. */
  onError?: (error: Error) => void;
  error?: Error;
}

/**
 * A connection just checked out of its pool, watched at once: pg-pool stops listening for its
 * errors when it hands it out, and a server that dies right after accepting it (its goodbye in the
 * same packet as the connect's end) would otherwise raise an 'error' nobody handles, which ends
 * the process. The connection goes to its holder a promise turn later.
 */
export function checkedOut(client: PoolClient, release: ReleaseConnection, replica?: ReplicaHost): PooledConnection {
  const connection: PooledConnection = {
    client,
    replica,
    release: (destroy) => {
      client.removeListener('error', onError);
      release(destroy);
    },
  };
  function onError(error: Error): void {
    connection.error ??= error;
    connection.onError?.(error);
  }
  client.on('error', onError);
  return connection;
}

/**
 * One connection held by a query runner. The runner may let go of it (it moves to the primary,
 * or is released) while statements it sent are still running on it, as when a `beforeQuery`
 * subscriber writes, or two queries of one runner are in flight: the connection then goes back
 * to its pool only once the last of them has settled, so it is never handed to another runner
 * while in use. A connection that failed, or that carries session state (SET, set_config,
 * PREPARE, …), is destroyed rather than pooled: the next runner to get it would inherit the state.
 */
export class ConnectionLease {
  /** Set once connected. */
  connection?: PooledConnection;
  readonly ready: Promise<PoolClient>;
  private inUse = 0;
  private retired = false;
  private released = false;
  private destroyWith?: Error | true;

  /** `connected` runs once the connection is there, before any statement of the holder: what it returns is waited for. */
  constructor(connecting: Promise<PooledConnection>, connected: (connection: PooledConnection) => void | Promise<void>) {
    this.ready = connecting.then((connection) => {
      this.connection = connection;
      const holding = connected(connection);
      if (this.retired) this.settle();
      return holding ? holding.then(() => connection.client) : connection.client;
    });
  }

  get replica(): ReplicaHost | undefined {
    return this.connection?.replica;
  }

  /** A statement starts on this connection. */
  use(): void {
    this.inUse++;
  }

  /** A statement (and whatever the runner sent after it on the same connection) has settled. */
  done(): void {
    this.inUse--;
    if (this.retired) this.settle();
  }

  /** The connection must not be pooled again: it failed (`error`) or carries session state. */
  destroyOnRelease(error?: Error): void {
    this.destroyWith ??= error ?? true;
  }

  /** The runner lets go: the connection goes back to its pool (or is destroyed) once no statement runs on it. */
  retire(): void {
    this.retired = true;
    // Let go of before it connected: nobody may wait for it any more.
    if (!this.connection) this.ready.catch(() => undefined);
    this.settle();
  }

  private settle(): void {
    if (this.released || this.inUse > 0 || !this.connection) return;
    this.released = true;
    this.connection.release(this.destroyWith);
  }
}
