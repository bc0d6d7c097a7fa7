import { INestApplicationContext } from '@nestjs/common';
import { getDataSourceToken } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { RoutingService } from '../../lib/index.js';
import type { PgCluster } from '../../lib/testing/index.js';
import { readPort } from '../support/probe.js';
import { createTestContext } from '../support/test-app.js';
import { testCluster } from '../support/test-cluster.js';

describe('replicaSelection', () => {
  let cluster: PgCluster;
  beforeAll(async () => {
    cluster = await testCluster({ replicas: 2 });
  });
  afterAll(() => cluster?.stop());

  const withContext = async (replicaSelection: string, fn: (routing: RoutingService, dataSource: DataSource) => Promise<void>) => {
    const context: INestApplicationContext = await createTestContext({ cluster, pindb: { replicaSelection } as never });
    try {
      await fn(context.get(RoutingService), context.get(getDataSourceToken()));
    } finally {
      await context.close();
    }
  };

  it('round-robin alternates between the replicas', () =>
    withContext('round-robin', async (routing, dataSource) => {
      const ports = await routing.run(async () => {
        const seen = [];
        for (let i = 0; i < 4; i++) seen.push(await readPort(dataSource));
        return seen;
      });
      expect(ports[0]).not.toBe(ports[1]);
      expect(ports).toEqual([ports[0], ports[1], ports[0], ports[1]]);
    }));

  it('random reaches both replicas', () =>
    withContext('random', async (routing, dataSource) => {
      const ports = new Set<number>();
      await routing.run(async () => {
        for (let i = 0; i < 40; i++) ports.add(await readPort(dataSource));
      });
      expect(ports).toEqual(new Set(cluster.replicas.map((r) => r.port)));
    }));

  it('least-busy sends reads away from a replica busy with a slow query', () =>
    withContext('least-busy', async (routing, dataSource) => {
      await routing.run(async () => {
        const slow = dataSource.createQueryBuilder().select('inet_server_port()', 'port').addSelect('pg_sleep(0.5)').fromDummy().getRawOne();
        await new Promise((resolve) => setTimeout(resolve, 50));
        const fast = [];
        for (let i = 0; i < 5; i++) fast.push(await readPort(dataSource));
        const busyPort = Number((await slow).port);
        expect(cluster.replicas.map((r) => r.port)).toContain(busyPort);
        expect(fast.every((port) => port !== busyPort)).toBe(true);
      });
    }));
});
