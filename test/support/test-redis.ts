import { createServer } from 'node:net';
import { Redis } from 'ioredis';

/**
 * The Redis the suite runs on: 127.0.0.1:6379 (`.ci/run` starts one when none answers there), or
 * PINDB_TEST_REDIS_URL. Specs share it, so each keeps its keys under its own prefix and removes
 * them when done.
 */
export const TEST_REDIS_URL = process.env.PINDB_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

/** A client of the test Redis; close it with `quit()` in afterAll, or jest cannot exit. */
export function testRedis(): Redis {
  return new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: 1 });
}

/** A key prefix no other spec or run uses. */
export function uniquePrefix(spec: string): string {
  return `pindb-test:${spec}:${process.pid}:${Math.random().toString(36).slice(2, 10)}:`;
}

/** Deletes every key under `prefix`, so a spec leaves nothing behind in the shared Redis. */
export async function deleteKeys(redis: Redis, prefix: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix.replace(/[*?[\]\\]/g, '\\$&')}*`, 'COUNT', 1000);
    if (keys.length > 0) await redis.del(...keys);
    cursor = next;
  } while (cursor !== '0');
}

/** A loopback port nothing listens on: a Redis that is down refuses connections there. */
export function closedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}
