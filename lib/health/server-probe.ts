import type { Client, ClientConfig, Pool } from 'pg';

type ClientClass = new (config: ClientConfig) => Client;

/**
 * One connection of its own to one server, for health checks: outside the app's pool, so a check
 * neither waits behind the app's queries nor takes a connection from them, and bounded in time,
 * so a frozen server fails its check instead of hanging it. After a failure the connection is
 * dropped and the next check opens a new one.
 */
export class ServerProbe {
  private client?: Client;
  private connecting?: Promise<Client>;

  constructor(
    private readonly ClientClass: ClientClass,
    private readonly pool: Pool,
    private readonly timeoutMs: number,
  ) {}

  async query<T>(sql: string): Promise<T[]> {
    try {
      const client = await this.connect();
      const { rows } = await client.query(sql);
      return rows as T[];
    } catch (error) {
      this.close();
      throw error;
    }
  }

  close(): void {
    const client = this.client;
    this.client = undefined;
    this.connecting = undefined;
    if (!client) return;
    // end() waits for the server to acknowledge, which a frozen server never does: cut the socket.
    client.connection?.stream?.destroy();
    client.end().catch(() => undefined);
  }

  private connect(): Promise<Client> {
    if (this.client) return Promise.resolve(this.client);
    if (this.connecting) return this.connecting;
    // The app pool's own settings (host, credentials, ssl, …), with the probe's time limits.
    const { max: _max, idleTimeoutMillis: _idle, ...settings } = this.pool.options;
    const client = new this.ClientClass({
      ...settings,
      application_name: 'nestjs-pindb health',
      connectionTimeoutMillis: this.timeoutMs,
      query_timeout: this.timeoutMs,
      statement_timeout: this.timeoutMs,
    });
    // A connection that dies between checks must not become an unhandled 'error' event.
    client.on('error', () => this.close());
    this.connecting = client.connect().then(() => {
      this.client = client;
      this.connecting = undefined;
      return client;
    });
    return this.connecting;
  }
}
