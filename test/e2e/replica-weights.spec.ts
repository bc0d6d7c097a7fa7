import type { INestApplicationContext } from '@nestjs/common';
import { getDataSourceToken } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { RoutingService, type ReplicaSelection } from '../../lib/index.js';
import type { PgCluster } from '../../lib/testing/index.js';
import { readPort } from '../support/probe.js';
import { createTestContext } from '../support/test-app.js';
import { testCluster } from '../support/test-cluster.js';

const READS = 2000;

describe('replica weights', () => {
  let cluster: PgCluster;
  beforeAll(async () => {
    cluster = await testCluster({ replicas: 2 });
  });
  afterAll(() => cluster?.stop());

  /** An app whose replica 0 has weight 3 and replica 1 weight 1. */
  const withWeights = async (replicaSelection: ReplicaSelection, fn: (routing: RoutingService, dataSource: DataSource) => Promise<void>) => {
    const [first, second] = cluster.replicas;
    const context: INestApplicationContext = await createTestContext({
      cluster,
      pindb: {
        sets: {
          default: {
            primary: cluster.primary,
            replicas: [
              { ...first, weight: 3 },
              { ...second, weight: 1 },
            ],
          },
        },
        replicaSelection,
      },
    });
    try {
      await fn(context.get(RoutingService), context.get(getDataSourceToken()));
    } finally {
      await context.close();
    }
  };

  /** Reads until both replicas have served one (a replica serves once a health check has seen it in recovery), within 20 s. */
  const bothReadable = async (routing: RoutingService, dataSource: DataSource) => {
    const seen = new Set<number>();
    const deadline = Date.now() + 20_000;
    while (seen.size < 2 && Date.now() < deadline) seen.add(await routing.run(() => readPort(dataSource)));
    expect([...seen].filter((port) => port !== cluster.primary.port).sort()).toEqual(cluster.replicas.map((r) => r.port).sort());
  };

  const split = async (routing: RoutingService, dataSource: DataSource) => {
    const counts = new Map<number, number>();
    await routing.run(async () => {
      for (let i = 0; i < READS; i++) {
        const port = await readPort(dataSource);
        counts.set(port, (counts.get(port) ?? 0) + 1);
      }
    });
    const [heavy, light] = cluster.replicas.map((r) => counts.get(r.port) ?? 0);
    return { heavy, light, share: heavy / (heavy + light) };
  };

  it.each<ReplicaSelection>(['round-robin', 'random', 'least-busy'])(`%s: weights 3:1 split ${READS} reads 3:1 (± 10 %%)`, (selection) =>
    withWeights(selection, async (routing, dataSource) => {
      await bothReadable(routing, dataSource);
      const { heavy, light, share } = await split(routing, dataSource);
      // Every read on a replica (none fell back to the primary on a healthy cluster, give or take a slow health check).
      expect(heavy + light).toBeGreaterThan(READS * 0.95);
      expect(share).toBeGreaterThanOrEqual(0.675);
      expect(share).toBeLessThanOrEqual(0.825);
      expect(light).toBeGreaterThan(0);
    }),
  );

  it('round-robin interleaves the heavier replica’s reads (smooth weighted round robin), never a burst of the lighter', () =>
    withWeights('round-robin', async (routing, dataSource) => {
      await bothReadable(routing, dataSource);
      const [heavy, light] = cluster.replicas.map((r) => r.port);
      const ports = await routing.run(async () => {
        const seen: number[] = [];
        for (let i = 0; i < 40; i++) seen.push(await readPort(dataSource));
        return seen;
      });
      // With weights 3 and 1 the light replica never serves two reads in a row, and serves one in four
      // (give or take one, should a health check of a busy machine take a replica out for a read).
      for (let i = 1; i < ports.length; i++) expect(ports[i] === light && ports[i - 1] === light).toBe(false);
      expect(ports.filter((port) => port === light).length).toBeGreaterThanOrEqual(9);
      expect(ports.filter((port) => port === heavy).length).toBeGreaterThanOrEqual(29);
    }));
});
