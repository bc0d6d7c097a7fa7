import { Redis } from 'ioredis';
import { PinDbConfigError } from '../../lib/index.js';
import { RedisPinStore } from '../../lib/redis/index.js';
import { closedPort, deleteKeys, TEST_REDIS_URL, testRedis, uniquePrefix } from '../support/test-redis.js';

// On the real Redis of the suite (127.0.0.1:6379 or PINDB_TEST_REDIS_URL).
describe('RedisPinStore', () => {
  const prefix = uniquePrefix('redis-pin-store');
  let redis: Redis;
  let store: RedisPinStore;
  /** Keys written under the default prefix ('pindb:'), removed at the end. */
  const defaultPrefixKeys: string[] = [];

  beforeAll(() => {
    redis = testRedis();
    store = new RedisPinStore(redis, { prefix });
  });
  afterAll(async () => {
    await deleteKeys(redis, prefix);
    if (defaultPrefixKeys.length > 0) await redis.del(...defaultPrefixKeys);
    await redis.quit();
  });

  it('sets, gets and deletes a token under prefix + key', async () => {
    expect(await store.get('alice')).toBeUndefined();
    await store.set('alice', 'token-a', 30);
    expect(await store.get('alice')).toBe('token-a');
    expect(await redis.get(`${prefix}alice`)).toBe('token-a');
    expect(await redis.exists('alice')).toBe(0);
    await store.delete('alice');
    expect(await store.get('alice')).toBeUndefined();
    expect(await redis.exists(`${prefix}alice`)).toBe(0);
  });

  it('keys expire with the token: SET … EX ttl, rounded up to whole seconds and at least 1', async () => {
    await store.set('bob', 'token-b', 30);
    const ttl = await redis.ttl(`${prefix}bob`);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(30);
    await store.set('carol', 'token-c', 2.2);
    expect(await redis.pttl(`${prefix}carol`)).toBeGreaterThan(2200);
    expect(await redis.ttl(`${prefix}carol`)).toBeLessThanOrEqual(3);
    await store.set('dave', 'token-d', 0);
    expect(await redis.ttl(`${prefix}dave`)).toBe(1);
  });

  it('setting a key again replaces its token and TTL', async () => {
    await store.set('erin', 'old', 100);
    await store.set('erin', 'new', 5);
    expect(await store.get('erin')).toBe('new');
    expect(await redis.ttl(`${prefix}erin`)).toBeLessThanOrEqual(5);
  });

  it("the default prefix is 'pindb:'", async () => {
    const key = uniquePrefix('default-prefix').slice(0, -1);
    defaultPrefixKeys.push(`pindb:${key}`);
    const withDefault = new RedisPinStore(redis);
    expect(withDefault.prefix).toBe('pindb:');
    await withDefault.set(key, 'token', 30);
    expect(await redis.get(`pindb:${key}`)).toBe('token');
    await withDefault.delete(key);
    expect(await redis.exists(`pindb:${key}`)).toBe(0);
  });

  it('takes { client, prefix } as well as (client, { prefix }), and never closes a client it was given', async () => {
    const viaOptions = new RedisPinStore({ client: redis, prefix });
    expect(viaOptions.client).toBe(redis);
    await viaOptions.set('frank', 'token-f', 30);
    expect(await store.get('frank')).toBe('token-f');
    await viaOptions.close();
    expect(redis.status).toBe('ready');
  });

  it('makes its own client from { url }: its first call, made while it is still connecting, waits for the connection; close() closes it', async () => {
    const own = new RedisPinStore({ url: TEST_REDIS_URL, prefix });
    try {
      expect(own.client.status).toBe('connecting');
      await own.set('grace', 'token-g', 30);
      expect(await redis.get(`${prefix}grace`)).toBe('token-g');
      expect(await own.get('grace')).toBe('token-g');
    } finally {
      await own.close();
    }
    expect(own.client.status).toBe('end');
  });

  it('refuses bad options at construction, saying what to write', () => {
    expect(() => new RedisPinStore({ client: redis, url: TEST_REDIS_URL })).toThrow(PinDbConfigError);
    expect(() => new RedisPinStore({ client: redis, url: TEST_REDIS_URL })).toThrow(/either client or url\/redis/);
    expect(() => new RedisPinStore({ prefix: 7 } as never)).toThrow(/prefix must be a string such as 'pindb:'/);
    expect(() => new RedisPinStore({ keyPrefix: 'x' } as never)).toThrow(
      /Unknown RedisPinStore option keyPrefix: it has client, url, redis, prefix, timeoutMs/,
    );
    expect(() => new RedisPinStore({ client: {} as never })).toThrow(/must be an ioredis client/);
    expect(() => new RedisPinStore(redis, { timeoutMs: 0 })).toThrow(/timeoutMs must be a number of milliseconds > 0/);
  });

  describe('when Redis is down', () => {
    it('a store with its own client fails each call at once (no offline queue, no retries), naming the command', async () => {
      const down = new RedisPinStore({ url: `redis://127.0.0.1:${await closedPort()}` });
      try {
        await expect(down.get('alice')).rejects.toThrow(/^RedisPinStore: Redis GET failed \(client (connecting|reconnecting|connect|close)\)/);
        await expect(down.set('alice', 'token', 10)).rejects.toThrow(/Redis SET failed/);
        await expect(down.delete('alice')).rejects.toThrow(/Redis DEL failed/);
      } finally {
        await down.close();
      }
    }, 10_000);

    it('with a client of yours on ioredis defaults (offline queue, retries), each call still fails after timeoutMs instead of waiting for Redis', async () => {
      // ioredis defaults, but for disconnectTimeout: disconnect() between reconnects leaves a timer of
      // that length behind (2 s by default), which would keep jest waiting after the run.
      const yours = new Redis(`redis://127.0.0.1:${await closedPort()}`, { disconnectTimeout: 10 });
      yours.on('error', () => undefined);
      const down = new RedisPinStore(yours, { timeoutMs: 200 });
      try {
        await expect(down.get('alice')).rejects.toThrow(/Redis GET failed \(client \w+\): no answer within 200 ms/);
      } finally {
        yours.disconnect();
      }
    }, 10_000);
  });
});
