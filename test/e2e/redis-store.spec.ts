import type { Redis } from 'ioredis';
import { Redis as RedisClient } from 'ioredis';
import type { PinDbModuleOptions, PinRequest, PinStore } from '../../lib/index.js';
import { RedisPinStore } from '../../lib/redis/index.js';
import { PinDbRouter } from '../../lib/routing/pin-db.router.js';
import { pauseReplicas, resumeReplicas } from '../support/test-cluster.js';
import { NoteJobs, NotesController } from '../support/notes.controller.js';
import { NotesService } from '../support/probe.js';
import { clusterApp, createTestApp, TestApp, TestAppOptions } from '../support/test-app.js';
import { closedPort, deleteKeys, TEST_REDIS_URL, testRedis, uniquePrefix } from '../support/test-redis.js';

const PIN_SECONDS = 30;
const prefix = uniquePrefix('redis-store');

/** Store transport only: no cookie, no header; the client is whoever the x-user header names. */
const storeApp = (store: PinStore): Omit<TestAppOptions, 'platform' | 'cluster'> => ({
  pindb: {
    cookie: false,
    header: false,
    pinSeconds: PIN_SECONDS,
    clientKey: (req: PinRequest) => req.headers['x-user'] as string | undefined,
    store,
  } satisfies Partial<PinDbModuleOptions>,
  controllers: [NotesController],
  providers: [NotesService, NoteJobs],
});

async function call(app: TestApp, method: 'GET' | 'POST', path: string, user?: string) {
  const headers: Record<string, string> = { 'content-type': 'application/json', ...(user ? { 'x-user': user } : {}) };
  const response = await fetch(app.url + path, { method, headers, body: method === 'POST' ? '{}' : undefined });
  return {
    status: response.status,
    body: (await response.json()) as any,
    cookies: response.headers.getSetCookie(),
    header: response.headers.get('x-pindb-token'),
  };
}

/** Redis clients the spec opened, closed at the end so that jest can exit. */
const clients: Redis[] = [];
const client = () => {
  const redis = testRedis();
  clients.push(redis);
  return redis;
};

// With cookie: false, tokens are signed with PINDB_SECRET: every instance must have the same one,
// or each would make up its own and ignore the other's tokens.
const previousSecret = process.env.PINDB_SECRET;
beforeAll(() => {
  process.env.PINDB_SECRET = 'the secret every instance of the app shares';
});
afterAll(async () => {
  if (previousSecret === undefined) delete process.env.PINDB_SECRET;
  else process.env.PINDB_SECRET = previousSecret;
  const redis = client();
  await deleteKeys(redis, prefix);
  await Promise.all(clients.map((redis) => redis.quit()));
});

// App A: Express; app B, in the nested describe: Fastify. One cluster, one Redis.
let aClient: Redis;
const a = clusterApp('express', () => storeApp(new RedisPinStore((aClient = client()), { prefix })));

describe('RedisPinStore: two app instances on one Redis, cookieless clients keyed by clientKey', () => {
  let b: TestApp;
  let bClosed = false;
  let redis: Redis;
  // App B's store makes its own client, and is also one of the app's providers, as the README
  // shows: Nest then closes it with the app.
  const storeB = new RedisPinStore({ url: TEST_REDIS_URL, prefix });
  beforeAll(async () => {
    redis = client();
    const options = storeApp(storeB);
    b = await createTestApp({
      platform: 'fastify',
      cluster: a.cluster,
      ...options,
      providers: [...options.providers!, { provide: RedisPinStore, useValue: storeB }],
    });
    await a.cluster.waitForReplay(); // the schema, made at startup
  });
  afterAll(async () => {
    if (!bClosed) await b?.close();
    await storeB.close();
  });
  // Replicas that do not replay the write: only the token in Redis can send a read to the primary.
  beforeEach(() => pauseReplicas(a.cluster));
  afterEach(() => resumeReplicas(a.cluster));

  it("a write through app A, then a read through app B with the same clientKey: served by the primary, sees the row; another user's read through B goes to a replica", async () => {
    const created = await call(a.app, 'POST', '/notes', 'alice');
    expect(created.status).toBe(201);
    expect(created.cookies).toEqual([]);
    expect(created.header).toBeNull();

    const aliceOnB = await call(b, 'GET', `/notes/${created.body.id}`, 'alice');
    expect(aliceOnB.status).toBe(200);
    expect(aliceOnB.body).toMatchObject({ found: true, port: a.cluster.primary.port });

    const bobOnB = await call(b, 'GET', `/notes/${created.body.id}`, 'bob');
    expect(bobOnB.body.found).toBe(false);
    expect(a.replicaPorts).toContain(bobOnB.body.port);
    const anonymousOnB = await call(b, 'GET', `/notes/${created.body.id}`);
    expect(a.replicaPorts).toContain(anonymousOnB.body.port);
  });

  it('the token is one key, prefix + clientKey, that expires with it (TTL ≤ the token lifetime)', async () => {
    await call(a.app, 'POST', '/notes', 'carol');
    expect(await redis.exists(`${prefix}carol`)).toBe(1);
    const ttl = await redis.ttl(`${prefix}carol`);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(a.app.app.get(PinDbRouter).tokens.lifetimeMs / 1000);
    expect(await redis.exists('carol')).toBe(0);
  });

  it('once every replica has replayed the write, a read through app B goes to a replica, sees the row, and the key is deleted', async () => {
    const created = await call(a.app, 'POST', '/notes', 'dave');
    expect(await redis.exists(`${prefix}dave`)).toBe(1);
    const pinned = await call(b, 'GET', `/notes/${created.body.id}`, 'dave');
    expect(pinned.body).toMatchObject({ found: true, port: a.cluster.primary.port });
    expect(await redis.exists(`${prefix}dave`)).toBe(1); // the replicas are still behind: kept

    await resumeReplicas(a.cluster);
    await a.cluster.waitForReplay();
    const later = await call(b, 'GET', `/notes/${created.body.id}`, 'dave');
    expect(later.body.found).toBe(true);
    expect(a.replicaPorts).toContain(later.body.port);
    expect(await redis.exists(`${prefix}dave`)).toBe(0);
  });

  // Last of this describe: it closes app B.
  it('closing app B closes the Redis client its RedisPinStore made (a provider of the app); app A keeps the client it was given', async () => {
    expect(storeB.client.status).toBe('ready');
    bClosed = true;
    await b.close();
    expect(storeB.client.status).toBe('end');
    expect(aClient.status).toBe('ready');
  });
});

/** A PinStore whose every call fails, as a store that is down would. */
class FailingStore implements PinStore {
  readonly calls: string[] = [];
  private fail(method: string): Promise<never> {
    this.calls.push(method);
    return Promise.reject(new Error(`the store is down (${method})`));
  }
  get(): Promise<string | undefined> {
    return this.fail('get');
  }
  set(): Promise<void> {
    return this.fail('set');
  }
  delete(): Promise<void> {
    return this.fail('delete');
  }
}

describe('a store that fails: the request reads from the primary, answers 2xx, and a warning is logged', () => {
  const failing = new FailingStore();
  const apps: Record<string, TestApp> = {};
  const stores: RedisPinStore[] = [];
  let yourClient: Redis;
  const warnings: string[] = [];
  /** The first read warning of each app. */
  const logged = new Map<string, string>();

  beforeAll(async () => {
    // Its own client, on the fail-fast defaults (no offline queue, no retries per command).
    const ownClient = new RedisPinStore({ url: `redis://127.0.0.1:${await closedPort()}`, prefix });
    // A client of the app's on ioredis defaults (offline queue, 20 retries per command): timeoutMs bounds each call.
    // (disconnectTimeout only so that closing it leaves no 2 s timer behind for jest.)
    yourClient = new RedisClient(`redis://127.0.0.1:${await closedPort()}`, { disconnectTimeout: 10 });
    yourClient.on('error', () => undefined);
    const yours = new RedisPinStore(yourClient, { prefix, timeoutMs: 200 });
    stores.push(ownClient, yours);
    apps['a PinStore whose calls reject'] = await createTestApp({ platform: 'express', cluster: a.cluster, ...storeApp(failing) });
    apps['RedisPinStore on a Redis that is down (its own client)'] = await createTestApp({ platform: 'fastify', cluster: a.cluster, ...storeApp(ownClient) });
    apps['RedisPinStore on a Redis that is down (your client, ioredis defaults)'] = await createTestApp({
      platform: 'express',
      cluster: a.cluster,
      ...storeApp(yours),
    });
    // After every app is made: each one's creation resets Nest's logger.
    a.app.app.useLogger({ log() {}, error() {}, debug() {}, verbose() {}, warn: (message: string) => warnings.push(message) });
  });
  afterAll(async () => {
    await Promise.all(Object.values(apps).map((app) => app.close()));
    await Promise.all(stores.map((store) => store.close()));
    yourClient?.disconnect();
  });
  beforeEach(() => {
    warnings.length = 0;
  });

  it.each([
    'a PinStore whose calls reject',
    'RedisPinStore on a Redis that is down (its own client)',
    'RedisPinStore on a Redis that is down (your client, ioredis defaults)',
  ])('%s: a GET with a clientKey is served by the primary with 200 and hands out no token; one without a clientKey, by a replica', async (name) => {
    const app = apps[name];
    const withKey = await call(app, 'GET', '/notes/probe', 'erin');
    expect(withKey.status).toBe(200);
    expect(withKey.body.port).toBe(a.cluster.primary.port);
    const readWarnings = warnings.filter((w) => /^The pin store failed, so this request reads from the primaries: .+/.test(w));
    expect(readWarnings).toHaveLength(1);
    logged.set(name, readWarnings[0]);
    // Read from the primary, not pinned: no token to hand out, so the failing store is not asked to keep one.
    expect(warnings.filter((w) => /^The pin store failed to keep a token/.test(w))).toEqual([]);

    const withoutKey = await call(app, 'GET', '/notes/probe');
    expect(withoutKey.status).toBe(200);
    expect(a.replicaPorts).toContain(withoutKey.body.port);
  });

  it.each([
    'a PinStore whose calls reject',
    'RedisPinStore on a Redis that is down (its own client)',
    'RedisPinStore on a Redis that is down (your client, ioredis defaults)',
  ])('%s: a POST that writes answers 201, and the token it could not keep is a warning', async (name) => {
    const created = await call(apps[name], 'POST', '/notes', 'frank');
    expect(created.status).toBe(201);
    expect(created.body.id).toEqual(expect.any(Number));
    expect(warnings.some((w) => /^The pin store failed to keep a token: .+/.test(w))).toBe(true);
  });

  it('the warnings say what failed: the store error, or RedisPinStore naming the Redis command', () => {
    // Logged by the first GET of each app, above (each app has its own throttle).
    expect(logged.get('a PinStore whose calls reject')).toBe('The pin store failed, so this request reads from the primaries: the store is down (get)');
    expect(logged.get('RedisPinStore on a Redis that is down (its own client)')).toMatch(
      /reads from the primaries: RedisPinStore: Redis GET failed \(client \w+\): Stream isn't writeable and enableOfflineQueue options is false$/,
    );
    expect(logged.get('RedisPinStore on a Redis that is down (your client, ioredis defaults)')).toMatch(
      /reads from the primaries: RedisPinStore: Redis GET failed \(client \w+\): no answer within 200 ms$/,
    );
    expect(failing.calls).toContain('get');
    expect(failing.calls).toContain('set');
  });

  it('a store that stays down logs one warning per kind and interval, not one per request; each request still reads from the primary', async () => {
    const app = apps['a PinStore whose calls reject'];
    const gets = failing.calls.filter((call) => call === 'get').length;
    const answers = await Promise.all(Array.from({ length: 20 }, () => call(app, 'GET', '/notes/probe', 'heidi')));
    expect(answers.map((answer) => [answer.status, answer.body.port])).toEqual(Array(20).fill([200, a.cluster.primary.port]));
    expect(failing.calls.filter((call) => call === 'get').length).toBe(gets + 20);
    expect(warnings.filter((w) => w.startsWith('The pin store failed'))).toEqual([]);
  });
});
