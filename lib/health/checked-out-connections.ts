import type { PoolClient } from 'pg';

/**
 * The connections a server's pool has checked out (pg-pool's 'acquire' and 'release' events),
 * whoever took them: when the server is found dead, they are cut so that statements stuck on it
 * fail instead of hanging.
 */
export class CheckedOutConnections {
  private readonly clients = new Set<PoolClient>();

  get size(): number {
    return this.clients.size;
  }

  /** Its pool checked a connection out (pg-pool's 'acquire'). */
  checkOut(client: PoolClient): void {
    this.clients.add(client);
  }

  /** A connection went back to its pool, or was destroyed (pg-pool's 'release'). */
  checkIn(client: PoolClient): void {
    this.clients.delete(client);
  }

  /**
   * Cuts every checked-out connection. A frozen server never answers a query already sent, and
   * the kernel keeps its TCP connections alive, so only closing the socket ends the wait: the
   * query then fails as a lost connection. Returns how many were cut.
   */
  cutAll(): number {
    const count = this.clients.size;
    for (const client of this.clients) {
      client.connection?.stream?.destroy();
    }
    this.clients.clear();
    return count;
  }
}
