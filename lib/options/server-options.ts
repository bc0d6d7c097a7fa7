import type { ServerOptions } from './pin-db-module-options.js';

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
  const fields = urlFields(server);
  return `${server.host ?? fields.host ?? 'localhost'}:${server.port ?? fields.port ?? 5432}`;
}

function withoutUrl({ url: _url, ...rest }: ServerOptions): ServerOptions {
  return rest;
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
