import { PinDbConfigError } from '../errors/pin-db-config.error.js';
import type { ServerOptions } from './pin-db-module-options.js';

/** The fields of a server, in the order errors list them. */
export const SERVER_KEYS = [
  'url',
  'host',
  'port',
  'username',
  'password',
  'database',
  'ssl',
  'applicationName',
] as const satisfies readonly (keyof ServerOptions)[];

/**
 * A replica's options merged over its primary's, as django-pindb's DATABASE_SETS: a replica names
 * only what differs. A primary given as a URL is split into fields first, so that a replica's
 * `host` is not overridden by the primary's URL (TypeORM lets `url` win over the fields).
 */
export function mergeServerOptions(primary: ServerOptions, replica: ServerOptions): ServerOptions {
  if (replica.url) return { ...withoutUrl(primary), ...replica };
  return { ...urlFields(primary), ...withoutUrl(primary), ...replica };
}

/** `host:port` of a server, for logs and stats. */
export function serverLabel(server: ServerOptions): string {
  const { host, port } = effectiveFields(server);
  return `${host ?? 'localhost'}:${port ?? 5432}`;
}

/**
 * What makes two servers the same database: host (case-insensitive, as DNS), port and database.
 * Two names for one machine (localhost and 127.0.0.1) are not caught: that would take a DNS lookup.
 */
export function serverIdentity(server: ServerOptions): string {
  const { host = 'localhost', port = 5432, database = '' } = effectiveFields(server);
  return JSON.stringify([host.toLowerCase(), port, database]);
}

/**
 * Checks the type of each field of a server, so that a typo fails at bootstrap with the field's
 * name instead of as a driver error at the first connect.
 */
export function checkServerFields(server: object, where: string): void {
  const fields = server as Record<string, unknown>;
  for (const key of Object.keys(fields)) {
    if (!(SERVER_KEYS as readonly string[]).includes(key)) {
      throw new PinDbConfigError(`Unknown option ${where}.${key}: a server has ${SERVER_KEYS.join(', ')}; other TypeORM options go in typeorm.`);
    }
  }
  const got = (key: string) => `(got ${describe(fields[key])})`;
  for (const key of ['url', 'host', 'username', 'database', 'applicationName'] as const) {
    if (fields[key] !== undefined && typeof fields[key] !== 'string') {
      throw new PinDbConfigError(`${where}.${key} must be a string ${got(key)}${key === 'host' ? ", e.g. host: 'replica-1'" : ''}.`);
    }
  }
  const { port, password, ssl, url } = fields;
  if (port !== undefined && !(typeof port === 'number' && Number.isInteger(port) && port >= 1 && port <= 65535)) {
    throw new PinDbConfigError(
      `${where}.port must be a whole number from 1 to 65535 ${got('port')}, e.g. port: 5432 (a port from the environment: Number(process.env.PGPORT)).`,
    );
  }
  if (password !== undefined && typeof password !== 'string' && typeof password !== 'function') {
    throw new PinDbConfigError(`${where}.password must be a string, or a function returning one (or a promise of one), as pg takes ${got('password')}.`);
  }
  if (ssl !== undefined && typeof ssl !== 'boolean' && !(typeof ssl === 'object' && ssl !== null && !Array.isArray(ssl))) {
    throw new PinDbConfigError(`${where}.ssl must be true, false or TLS options such as { rejectUnauthorized: true, ca } ${got('ssl')}.`);
  }
  if (typeof url === 'string') {
    try {
      new URL(url);
    } catch {
      throw new PinDbConfigError(`${where}.url is not a URL: give postgres://user:password@host:port/database.`);
    }
  }
}

function describe(value: unknown): string {
  if (typeof value === 'function') return 'a function';
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value !== 'object' || value === null) return `${typeof value} ${String(value)}`;
  try {
    return `${Array.isArray(value) ? 'array' : 'object'} ${JSON.stringify(value)}`;
  } catch {
    return 'an object';
  }
}

function withoutUrl({ url: _url, ...rest }: ServerOptions): ServerOptions {
  return rest;
}

/** The fields pg connects with: those of a `url` win over the fields beside it (pg parses the connection string over them). */
function effectiveFields(server: ServerOptions): ServerOptions {
  return { ...server, ...urlFields(server) };
}

function urlFields(server: ServerOptions): ServerOptions {
  if (!server.url) return {};
  const url = new URL(server.url);
  const fields: ServerOptions = {
    host: decodeURIComponent(url.hostname) || undefined,
    port: url.port ? Number(url.port) : undefined,
    username: decodeURIComponent(url.username) || undefined,
    password: url.password ? decodeURIComponent(url.password) : undefined,
    database: decodeURIComponent(url.pathname.replace(/^\//, '')) || undefined,
  };
  return Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== undefined));
}
