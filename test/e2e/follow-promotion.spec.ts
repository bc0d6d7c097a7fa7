import type { INestApplicationContext } from '@nestjs/common';
import { getDataSourceToken } from '@nestjs/typeorm';
import { setTimeout as sleep } from 'node:timers/promises';
import type { DataSource } from 'typeorm';
import { NoDatabaseAvailableError, PinDbHealthMonitor, RoutingService } from '../../lib/index.js';
import type { SetHealthReport } from '../../lib/health/set-health.js';
import type { PgCluster, PgServerName } from '../../lib/testing/index.js';
import { healthRounds } from '../support/failover.js';
import { readPort } from '../support/probe.js';
import { createTestContext } from '../support/test-app.js';
import { describeWithFaults, testCluster } from '../support/test-cluster.js';

const HEALTH = { intervalMs: 250, connectTimeoutMs: 1000 };
const TABLE = 'follow_promotion_write';

interface Env {
  cluster: PgCluster;
  app: INestApplicationContext;
  dataSource: DataSource;
  routing: RoutingService;
}

/** A 1 + 2 cluster, and an app on it whose set follows promotions (or not). */
function setUp(followPromotion: boolean): Env {
  const env = {} as Env;
  beforeAll(async () => {
    env.cluster = await testCluster({ replicas: 2 });
    await env.cluster.query('primary', `CREATE TABLE ${TABLE} (id serial PRIMARY KEY, tag text NOT NULL)`);
    await env.cluster.waitForReplay();
    env.app = await createTestContext({
      cluster: env.cluster,
      pindb: { health: HEALTH, sets: { default: { primary: env.cluster.primary, replicas: env.cluster.replicas, followPromotion } } },
    });
    env.dataSource = env.app.get<DataSource>(getDataSourceToken());
    env.routing = env.app.get(RoutingService);
  });
  afterAll(async () => {
    await env.app?.close();
    await env.cluster?.stop();
  });
  return env;
}

/** One INSERT in a context of its own; resolves with the context's token. */
function write(env: Env, tag: string, sql = `INSERT INTO ${TABLE} (tag) VALUES ($1)`): Promise<string | undefined> {
  return env.routing.run(async () => {
    await env.dataSource.query(sql, [tag]);
    return env.routing.token();
  });
}

/** An unpinned read in a context of its own (with `token`, as a client that brought it back): the port that answered, and whether it saw `tag`. */
function read(env: Env, token?: string, tag = ''): Promise<{ port: number; found: boolean }> {
  return env.routing.run(
    async () => {
      const [row] = await env.dataSource
        .createQueryBuilder()
        .select('inet_server_port()', 'port')
        .addSelect(`EXISTS (SELECT 1 FROM ${TABLE} WHERE tag = :tag)`, 'found')
        .setParameter('tag', tag)
        .fromDummy()
        .getRawMany();
      return { port: Number(row.port), found: row.found === true };
    },
    { token },
  );
}

async function rowsOn(cluster: PgCluster, server: PgServerName, tag: string): Promise<number> {
  const [{ count }] = await cluster.query<{ count: string }>(server, `SELECT count(*) AS count FROM ${TABLE} WHERE tag LIKE $1`, [tag]);
  return Number(count);
}

/** Unpinned reads one after another until stopped: every answer's port, and every failure. */
function readerLoop(env: Env): { stop: () => Promise<{ ports: number[]; failures: unknown[] }> } {
  let running = true;
  const ports: number[] = [];
  const failures: unknown[] = [];
  const loop = (async () => {
    while (running) {
      try {
        ports.push((await read(env)).port);
      } catch (error) {
        failures.push(error);
      }
      await sleep(5);
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
      return { ports, failures };
    },
  };
}

/** Polls `attempt` until it resolves (every failure must be NoDatabaseAvailableError); the tags tried, the one that landed, the time it took. */
async function writeUntilAccepted(env: Env, prefix: string, boundMs: number): Promise<{ tried: string[]; landed: string; ms: number }> {
  const started = performance.now();
  const tried: string[] = [];
  for (;;) {
    const tag = `${prefix}-${tried.length}`;
    tried.push(tag);
    try {
      await write(env, tag);
      return { tried, landed: tag, ms: performance.now() - started };
    } catch (error) {
      expect(error).toBeInstanceOf(NoDatabaseAvailableError);
      if (performance.now() - started > boundMs) throw new Error(`no write accepted within ${boundMs} ms`, { cause: error });
      await sleep(50);
    }
  }
}

async function until(condition: () => Promise<boolean>, boundMs: number, what: string): Promise<void> {
  const started = performance.now();
  while (!(await condition())) {
    if (performance.now() - started > boundMs) throw new Error(`not within ${boundMs} ms: ${what}`);
    await sleep(50);
  }
}

function report(env: Env): SetHealthReport {
  return env.app.get(PinDbHealthMonitor).report()[0];
}

describeWithFaults('sets.<name>.followPromotion: true: writes follow a replica promoted on a newer timeline', () => {
  const env = setUp(true);

  it('after the primary is lost and replica 0 promoted: writes land once on replica 0, the write in flight fails and is not sent again, reads never fail, replica 1 serves reads once it follows, and a token from before is honoured', async () => {
    const { cluster } = env;
    const [port0, port1] = cluster.replicas.map((replica) => replica.port);
    const before = 'before';
    const token = await write(env, before);
    expect(token).toBeDefined();
    await cluster.waitForReplay(); // replica 0 has the write its token stands for: the promotion keeps it
    expect(report(env).primary).toMatchObject({ up: true, timeline: 1 });

    const reader = readerLoop(env);
    // A write in flight when the primary stops: its connection breaks, and it is not sent again anywhere.
    const inFlight = write(env, 'in-flight', `INSERT INTO ${TABLE} (tag) SELECT $1::text FROM pg_sleep(30)`).then(
      () => undefined,
      (error: unknown) => error,
    );
    await until(
      async () =>
        (
          await cluster.query<{ n: string }>(
            'primary',
            "SELECT count(*) AS n FROM pg_stat_activity WHERE query LIKE '%pg_sleep(30)%' AND pid <> pg_backend_pid()",
          )
        )[0].n !== '0',
      10_000,
      'the write in flight runs on the primary',
    );
    await cluster.stopPrimary('immediate');
    expect(await inFlight).toBeInstanceOf(NoDatabaseAvailableError);
    await healthRounds(env.app, 1);
    await expect(write(env, 'while-lost')).rejects.toBeInstanceOf(NoDatabaseAvailableError);

    await cluster.promoteReplica(0);
    // One health interval and a check, with room to spare on a loaded machine.
    const { tried, landed, ms } = await writeUntilAccepted(env, 'after', 15_000);
    expect(ms).toBeLessThan(15_000);
    expect(report(env)).toMatchObject({
      primary: { server: `127.0.0.1:${port0}`, up: true, timeline: 2 },
      primarySwitches: 1,
      promotedFrom: `127.0.0.1:${cluster.primary.port}`,
    });
    expect(report(env).replicas.map((replica) => replica.server)).toEqual([`127.0.0.1:${port1}`]);

    // The write landed once, on replica 0; the attempts refused before it wrote nothing.
    expect(await rowsOn(cluster, 0, landed)).toBe(1);
    for (const tag of tried.filter((tag) => tag !== landed)) expect(await rowsOn(cluster, 0, tag)).toBe(0);
    expect(await rowsOn(cluster, 0, 'in-flight')).toBe(0);
    expect(await rowsOn(cluster, 0, 'while-lost')).toBe(0);

    // Pinned reads go to the new primary too.
    expect(await env.routing.run(() => env.routing.usePrimary(() => readPort(env.dataSource)))).toBe(port0);

    // The token from before the switch: the write it stands for is seen (on the new primary, or a replica that has it).
    const honoured = await read(env, token, before);
    expect(honoured.found).toBe(true);
    expect([port0, port1]).toContain(honoured.port);

    // Replica 1 follows replica 0 (promoteReplica waits for that): it serves the reads again, replica 0 none.
    await until(async () => (await read(env)).port === port1, 15_000, 'replica 1 serves a read');
    const ports = await Promise.all(Array.from({ length: 20 }, () => read(env).then((answer) => answer.port)));
    expect(new Set(ports)).toEqual(new Set([port1]));
    await cluster.waitForReplay();
    expect(await rowsOn(cluster, 1, landed)).toBe(1);

    const { ports: readPorts, failures } = await reader.stop();
    expect(failures).toEqual([]);
    expect(readPorts.length).toBeGreaterThan(0);
    expect(readPorts).not.toContain(cluster.primary.port);
  });

  it('the old primary back as a primary on its older timeline (a split brain) gets no write; the new primary keeps them', async () => {
    const { cluster } = env;
    await cluster.startPrimary();
    const [{ timeline }] = await cluster.query<{ timeline: number }>('primary', 'SELECT timeline_id AS timeline FROM pg_control_checkpoint()');
    expect(timeline).toBe(1);
    await healthRounds(env.app, 2);
    for (let i = 0; i < 10; i++) await write(env, `split-${i}`);
    expect(await rowsOn(cluster, 'primary', 'split-%')).toBe(0);
    expect(await rowsOn(cluster, 0, 'split-%')).toBe(10);
    // Nothing written after the switch reached it, nor the write in flight at the stop.
    expect(await rowsOn(cluster, 'primary', 'after-%')).toBe(0);
    expect(await rowsOn(cluster, 'primary', 'in-flight')).toBe(0);
    expect(report(env)).toMatchObject({ primary: { server: `127.0.0.1:${cluster.replicas[0].port}`, up: true }, primarySwitches: 1 });
    expect(await env.routing.run(() => env.routing.usePrimary(() => readPort(env.dataSource)))).toBe(cluster.replicas[0].port);
  });
});

describeWithFaults('sets.<name>.followPromotion: false (the default): a promotion changes nothing', () => {
  const env = setUp(false);

  it('after the primary is lost and replica 0 promoted, writes keep failing with NoDatabaseAvailableError naming the old primary, and reads are served', async () => {
    const { cluster } = env;
    const port1 = cluster.replicas[1].port;
    await cluster.stopPrimary('immediate');
    await cluster.promoteReplica(0);
    await healthRounds(env.app, 3);
    for (let i = 0; i < 5; i++) {
      const failed = await write(env, `after-${i}`).then(
        () => undefined,
        (error: unknown) => error,
      );
      expect(failed).toBeInstanceOf(NoDatabaseAvailableError);
      expect(failed).toMatchObject({ server: `127.0.0.1:${cluster.primary.port}` });
      await healthRounds(env.app, 1);
    }
    expect(await rowsOn(cluster, 0, 'after-%')).toBe(0);
    expect(report(env).primary).toMatchObject({ server: `127.0.0.1:${cluster.primary.port}`, up: false });
    expect(report(env)).not.toHaveProperty('primarySwitches');
    // Replica 0, out of recovery, serves no reads (as before this option existed); replica 1 serves them.
    expect(report(env).replicas[0]).toMatchObject({ promoted: true, readable: false });
    const ports = await Promise.all(Array.from({ length: 20 }, () => read(env).then((answer) => answer.port)));
    expect(new Set(ports)).toEqual(new Set([port1]));
  });
});
