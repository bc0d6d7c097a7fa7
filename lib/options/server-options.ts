import { PinDbConfigError } from '../errors/pin-db-config.error.js';
import type { ReplicaServerOptions, ServerOptions } from './pin-db-module-options.js';

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

/** The fields only a replica has: how it shares the reads, not how it is reached. */
export const REPLICA_KEYS = ['weight', 'zone'] as const satisfies readonly Exclude<keyof ReplicaServerOptions, keyof ServerOptions>[];

/** A replica's share of the reads and its zone, as checked at bootstrap (only the fields it was given). */
export interface ReplicaPlacement {
  /** ≥ 0; 0: a standby, read only when no replica of weight > 0 may serve. Default: 1 */
  weight?: number;
  zone?: string;
}

/**
 * A replica's options merged over its primary's, as django-pindb's DATABASE_SETS: a replica names
 * only what differs. A primary given as a URL is split into fields first, so that a replica's
 * `host` is not overridden by the primary's URL (TypeORM lets `url` win over the fields).
 */
export function mergeServerOptions(primary: ServerOptions, replica: ReplicaServerOptions): ServerOptions {
  // weight and zone are the router's, not pg's: the merged options are what the replica's pool connects with.
  const { weight: _weight, zone: _zone, ...server } = replica;
  if (server.url) return { ...withoutUrl(primary), ...server };
  return { ...urlFields(primary), ...withoutUrl(primary), ...server };
}

/** A replica's weight and zone, once checkServerFields has passed it: those it was given. */
export function replicaPlacement({ weight, zone }: ReplicaServerOptions): ReplicaPlacement {
  return { ...(weight !== undefined && { weight }), ...(zone !== undefined && { zone }) };
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
 * name instead of as a driver error at the first connect. A replica may also have `weight` and
 * `zone`; a primary may not (it serves every write and the reads that must see them, whatever
 * the replicas' shares).
 */
export function checkServerFields(server: object, where: string, role: 'primary' | 'replica' = 'primary'): void {
  const fields = server as Record<string, unknown>;
  for (const key of Object.keys(fields)) {
    if ((REPLICA_KEYS as readonly string[]).includes(key)) {
      if (role === 'replica') continue;
      throw new PinDbConfigError(
        `${where}.${key} is a replica option: ${key} says how a replica shares the reads, and the primary serves every write and every read that must see them. ` +
          `Remove it, or set it on a replica: replicas: [{ host: 'replica-1', ${key}: ${key === 'weight' ? '2' : "'eu-west-1a'"} }].`,
      );
    }
    if (!(SERVER_KEYS as readonly string[]).includes(key)) {
      const keys = role === 'replica' ? [...SERVER_KEYS, ...REPLICA_KEYS] : SERVER_KEYS;
      throw new PinDbConfigError(`Unknown option ${where}.${key}: a ${role} has ${keys.join(', ')}; other TypeORM options go in typeorm.`);
    }
  }
  if (role === 'replica') checkPlacement(fields, where);
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

function checkPlacement({ weight, zone }: Record<string, unknown>, where: string): void {
  if (weight !== undefined && !(typeof weight === 'number' && Number.isFinite(weight) && weight >= 0)) {
    throw new PinDbConfigError(
      `${where}.weight must be a finite number ≥ 0 (got ${describe(weight)}): the replica's share of the reads, e.g. weight: 3 beside weight: 1 for a 3:1 split ` +
        '(default 1; 0: a standby, read only when no replica of weight > 0 may serve).',
    );
  }
  if (zone !== undefined && !(typeof zone === 'string' && zone.trim() !== '')) {
    throw new PinDbConfigError(
      `${where}.zone must be a non-empty string (got ${describe(zone)}), e.g. zone: 'eu-west-1a': the module option zone prefers the replicas of the app's own zone.`,
    );
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
