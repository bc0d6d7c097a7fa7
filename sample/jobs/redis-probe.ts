import { Redis } from 'ioredis';

/**
 * Whether a Redis answers PING at `url`, trying once (no reconnects): main.ts asks before it builds
 * the app, so that a shop without Redis starts without its jobs instead of retrying forever.
 */
export async function redisAnswers(url: string): Promise<boolean> {
  const redis = new Redis(url, { lazyConnect: true, connectTimeout: 1000, maxRetriesPerRequest: 0, retryStrategy: () => null });
  redis.on('error', () => undefined); // the failed connect is the answer, not an error to print
  try {
    await redis.connect();
    return (await redis.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    redis.disconnect();
  }
}
