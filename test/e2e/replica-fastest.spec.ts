import type { INestApplicationContext } from '@nestjs/common';
import { getDataSourceToken } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { RoutingService } from '../../lib/index.js';
import type { PgCluster } from '../../lib/testing/index.js';
import { DelayProxy } from '../support/delay-proxy.js';
import { readPort } from '../support/probe.js';
import { createTestContext } from '../support/test-app.js';
import { testCluster } from '../support/test-cluster.js';

/** Each way, per chunk: a statement through a slowed proxy takes some 50 ms more than one on the other replica. */
const SLOW_MS = 25;

describe("replicaSelection: 'fastest'", () => {
  let cluster: PgCluster;
  let proxies: DelayProxy[];
  let context: INestApplicationContext;
  let routing: RoutingService;
  let dataSource: DataSource;
  let ports: number[];

  beforeAll(async () => {
    cluster = await testCluster({ replicas: 2 });
    ports = cluster.replicas.map((replica) => replica.port);
    // Each replica is reached through a proxy of its own, whose delay the tests set.
    proxies = await Promise.all(cluster.replicas.map((replica) => DelayProxy.start(replica)));
    context = await createTestContext({
      cluster,
      pindb: {
        sets: { default: { primary: cluster.primary, replicas: proxies.map((proxy) => ({ host: '127.0.0.1', port: proxy.port })) } },
        replicaSelection: 'fastest',
      },
    });
    routing = context.get(RoutingService);
    dataSource = context.get(getDataSourceToken());
  });
  afterAll(async () => {
    await context?.close();
    await Promise.all((proxies ?? []).map((proxy) => proxy.close()));
    await cluster?.stop();
  });

  /** Reads one after another, each in a context of its own, for at least `ms` and until `enough` says so (at most 30 s); the count per replica. */
  const readFor = async (ms: number, enough: (counts: number[]) => boolean = () => true) => {
    const counts = [0, 0];
    const start = Date.now();
    while ((Date.now() - start < ms || !enough(counts)) && Date.now() - start < 30_000) {
      const port = await routing.run(() => readPort(dataSource));
      const i = ports.indexOf(port);
      if (i >= 0) counts[i]++;
    }
    return counts;
  };
  /** Reads until the last 20 in a row were served by replica `fast` (the slow one measured and left aside), within 30 s. */
  const warmUp = async (fast: number) => {
    const deadline = Date.now() + 30_000;
    let run = 0;
    while (run < 20 && Date.now() < deadline) run = ports.indexOf(await routing.run(() => readPort(dataSource))) === fast ? run + 1 : 0;
    expect(run).toBe(20);
  };

  it('both replicas serve reads while they are as fast', async () => {
    const counts = await readFor(500, (seen) => seen[0] > 0 && seen[1] > 0);
    expect(counts[0]).toBeGreaterThan(0);
    expect(counts[1]).toBeGreaterThan(0);
  });

  it('moves the reads off a replica slowed down, and still sends it a few to measure it', async () => {
    proxies[1].delayMs = SLOW_MS;
    await warmUp(0);
    // At least 3 s (exploration sends the slow replica about one read a second), and until it got one.
    const [fast, slow] = await readFor(3000, (seen) => seen[1] >= 1);
    expect(slow).toBeGreaterThanOrEqual(1);
    expect(fast / (fast + slow)).toBeGreaterThan(0.8);
  });

  it('a replica that is fast again is measured again, and takes the reads back from one slowed down', async () => {
    proxies[1].delayMs = SLOW_MS;
    await warmUp(0);
    proxies[1].delayMs = 0;
    proxies[0].delayMs = SLOW_MS;
    await warmUp(1);
    const [slow, fast] = await readFor(3000, (seen) => seen[0] >= 1);
    expect(slow).toBeGreaterThanOrEqual(1);
    expect(fast / (fast + slow)).toBeGreaterThan(0.8);
  });
});
