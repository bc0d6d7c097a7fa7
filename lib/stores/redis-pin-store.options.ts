import type { Cluster, Redis, RedisOptions } from 'ioredis';
import { PinDbConfigError } from '../errors/pin-db-config.error.js';

/** An ioredis client: a Redis, or a Cluster. */
export type RedisPinClient = Redis | Cluster;

export interface RedisPinStoreOptions {
  /** Your ioredis client. RedisPinStore uses it as it is configured, and never closes it. */
  client?: RedisPinClient;
  /** Without `client`: the server to connect to, `redis://[:password@]host[:port][/db]` (or `rediss://`). Default: 127.0.0.1:6379 */
  url?: string;
  /** Without `client`: ioredis options for the client RedisPinStore makes, over its fail-fast defaults. */
  redis?: RedisOptions;
  /** Put in front of every key, so that pindb's keys cannot collide with the app's. Default: 'pindb:' */
  prefix?: string;
  /** The longest a get, set or delete may take before it fails (and the request reads from the primary). Default: 500 */
  timeoutMs?: number;
}

/**
 * ioredis options of the client RedisPinStore makes. ioredis's own defaults suit a cache that
 * must not lose commands: while Redis is down, each command waits in a queue through up to 20
 * reconnects. A pin store sits on the path of every request, and a failed lookup only sends that
 * request to the primary, so here a command fails at once when Redis is not connected.
 */
export const REDIS_PIN_STORE_CLIENT_DEFAULTS: Readonly<RedisOptions> = Object.freeze({
  /** Not connected: fail at once, instead of queueing the command until a reconnect. */
  enableOfflineQueue: false,
  /** A command cut by a disconnect fails, instead of being sent again after the reconnect. */
  maxRetriesPerRequest: 0,
  connectTimeout: 1000,
  /** close() while Redis is down leaves a timer this long behind (ioredis: 2 s), holding the process open. */
  disconnectTimeout: 200,
});

const OPTION_KEYS = ['client', 'url', 'redis', 'prefix', 'timeoutMs'];

/** An ioredis client, told apart from an options object by its commands (instanceof fails across two copies of ioredis). */
export function isRedisClient(value: unknown): value is RedisPinClient {
  const candidate = value as Partial<Record<string, unknown>> | null;
  return typeof candidate?.get === 'function' && typeof candidate.set === 'function' && typeof candidate.del === 'function';
}

/** Bad options fail where the store is made, at bootstrap, naming the fix. */
export function checkRedisPinStoreOptions(options: RedisPinStoreOptions): void {
  if (typeof options !== 'object' || options === null) {
    throw new PinDbConfigError('RedisPinStore takes an ioredis client or options: new RedisPinStore(redis), or new RedisPinStore({ url, prefix }).');
  }
  for (const key of Object.keys(options)) {
    if (!OPTION_KEYS.includes(key)) throw new PinDbConfigError(`Unknown RedisPinStore option ${key}: it has ${OPTION_KEYS.join(', ')}.`);
  }
  if (options.client !== undefined && !isRedisClient(options.client)) {
    throw new PinDbConfigError('RedisPinStore option client must be an ioredis client (new Redis(...) or new Cluster(...) from ioredis).');
  }
  if (options.client !== undefined && (options.url !== undefined || options.redis !== undefined)) {
    throw new PinDbConfigError(
      'RedisPinStore takes either client or url/redis (the options of a client it makes), not both: configure your own client instead.',
    );
  }
  if (options.prefix !== undefined && typeof options.prefix !== 'string') {
    throw new PinDbConfigError(`RedisPinStore option prefix must be a string such as 'pindb:' (got ${JSON.stringify(options.prefix)}).`);
  }
  if (options.timeoutMs !== undefined && !(typeof options.timeoutMs === 'number' && options.timeoutMs > 0 && Number.isFinite(options.timeoutMs))) {
    throw new PinDbConfigError(`RedisPinStore option timeoutMs must be a number of milliseconds > 0 (got ${JSON.stringify(options.timeoutMs)}).`);
  }
}
