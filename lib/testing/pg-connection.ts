import { Client } from 'pg';

/** Connection options of one server, in the shape TypeORM's postgres options (and replication) take. */
export interface PgConnectionOptions {
  host: string;
  port: number;
  username: string;
  password?: string;
  database: string;
  /** The same server as a URL: postgres://user@host:port/database */
  url: string;
}

export function connectionOptions(host: string, port: number, username = 'postgres', database = 'postgres'): PgConnectionOptions {
  return { host, port, username, database, url: `postgres://${encodeURIComponent(username)}@${host}:${port}/${encodeURIComponent(database)}` };
}

export function parseConnectionUrl(url: string): PgConnectionOptions {
  const parsed = new URL(url);
  const username = decodeURIComponent(parsed.username) || 'postgres';
  const password = parsed.password ? decodeURIComponent(parsed.password) : undefined;
  const database = decodeURIComponent(parsed.pathname.replace(/^\//, '')) || username;
  return { host: parsed.hostname, port: Number(parsed.port || 5432), username, password, database, url };
}

/** Runs one statement on one server over a short-lived connection. */
export async function queryServer<T = Record<string, unknown>>(
  server: PgConnectionOptions,
  sql: string,
  params: unknown[] = [],
  connectionTimeoutMillis = 5000,
): Promise<T[]> {
  const client = new Client({ connectionString: server.url, password: server.password, connectionTimeoutMillis });
  client.on('error', () => undefined);
  try {
    await client.connect();
    return (await client.query(sql, params)).rows as T[];
  } finally {
    await client.end().catch(() => undefined);
  }
}
