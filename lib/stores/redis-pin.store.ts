import { Logger, OnApplicationShutdown } from '@nestjs/common';
import { Redis, type RedisOptions } from 'ioredis';
import type { PinStore } from './pin-store.js';
import {
  checkRedisPinStoreOptions,
  isRedisClient,
  REDIS_PIN_STORE_CLIENT_DEFAULTS,
  type RedisPinClient,
  type RedisPinStoreOptions,
} from './redis-pin-store.options.js';

/**
 * A PinStore in Redis, shared by every instance of the app: a client's token follows it to
 * whichever instance serves its next request. Each token is one key, `SET prefix+key token EX ttl`,
 * so Redis expires it with the token and nothing needs cleaning up.
 *
 *   new RedisPinStore(redis)                           // your ioredis client
 *   new RedisPinStore({ url: process.env.REDIS_URL })  // one of its own, failing fast when Redis is down
 */
export class RedisPinStore implements PinStore, OnApplicationShutdown {
  readonly client: RedisPinClient;
  readonly prefix: string;
  private readonly timeoutMs: number;
  /** Whether RedisPinStore made the client, and so must close it. */
  private readonly ownsClient: boolean;
  private readonly logger = new Logger('PinDb');
  /** Until its first connection attempt settles, a client it made is not yet ready: calls wait for it. */
  private firstConnection?: Promise<void>;

  constructor(client: RedisPinClient, options?: Pick<RedisPinStoreOptions, 'prefix' | 'timeoutMs'>);
  constructor(options?: RedisPinStoreOptions);
  constructor(clientOrOptions: RedisPinClient | RedisPinStoreOptions = {}, more: Pick<RedisPinStoreOptions, 'prefix' | 'timeoutMs'> = {}) {
    const options: RedisPinStoreOptions = isRedisClient(clientOrOptions) ? { ...more, client: clientOrOptions } : clientOrOptions;
    checkRedisPinStoreOptions(options);
    this.prefix = options.prefix ?? 'pindb:';
    this.timeoutMs = options.timeoutMs ?? 500;
    this.ownsClient = options.client === undefined;
    this.client = options.client ?? this.createClient(options);
  }

  async get(key: string): Promise<string | undefined> {
    return (await this.call('GET', () => this.client.get(this.prefix + key))) ?? undefined;
  }

  async set(key: string, token: string, ttlSeconds: number): Promise<void> {
    // EX takes whole seconds, at least 1: round up, so the key never outlives the token by less.
    const seconds = Math.max(1, Math.ceil(ttlSeconds));
    await this.call('SET', () => this.client.set(this.prefix + key, token, 'EX', seconds));
  }

  async delete(key: string): Promise<void> {
    await this.call('DEL', () => this.client.del(this.prefix + key));
  }

  /** Closes the client RedisPinStore made; a client you gave it stays open (it is yours to close). */
  async close(): Promise<void> {
    const { client } = this;
    if (!this.ownsClient || client.status === 'end') return;
    // A client with a socket ends once it is closed; one between reconnects just stops reconnecting.
    const ended = ['connecting', 'connect', 'ready'].includes(client.status) ? new Promise((resolve) => client.once('end', resolve)) : undefined;
    // QUIT lets the replies in flight arrive first.
    if (
      client.status !== 'ready' ||
      !(await client.quit().then(
        () => true,
        () => false,
      ))
    )
      client.disconnect();
    await ended;
  }

  /** Nest calls this when the store is one of its providers (e.g. made by a factory provider). */
  onApplicationShutdown(): Promise<void> {
    return this.close();
  }

  private createClient({ url, redis = {} }: RedisPinStoreOptions): Redis {
    const options: RedisOptions = { ...REDIS_PIN_STORE_CLIENT_DEFAULTS, commandTimeout: this.timeoutMs, ...redis };
    const client = url === undefined ? new Redis(options) : new Redis(url, options);
    // Without a listener ioredis prints every failed reconnect to stderr; one warning per outage is enough.
    let down = false;
    client.on('error', (error: Error) => {
      if (down) return;
      down = true;
      this.logger.warn(`RedisPinStore lost Redis (${error.message}): requests with a clientKey read from the primary until it is back.`);
    });
    client.on('ready', () => (down = false));
    // Without an offline queue, a command sent while the first connection is being made would fail,
    // and the app's first requests would all read from the primary.
    this.firstConnection = new Promise<void>((resolve) => {
      const settle = () => {
        for (const event of ['ready', 'error', 'end']) client.off(event, settle);
        this.firstConnection = undefined;
        resolve();
      };
      for (const event of ['ready', 'error', 'end']) client.on(event, settle);
    });
    return client;
  }

  /** Runs one command; past timeoutMs it fails even if the client would keep waiting (a client of yours with an offline queue). */
  private async call<T>(command: string, run: () => Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${this.timeoutMs} ms`)), this.timeoutMs);
    });
    try {
      const { firstConnection } = this;
      return await Promise.race([firstConnection ? firstConnection.then(run) : run(), timeout]);
    } catch (error) {
      throw new Error(`RedisPinStore: Redis ${command} failed (client ${this.client.status}): ${(error as Error).message}`, { cause: error });
    } finally {
      clearTimeout(timer);
    }
  }
}
