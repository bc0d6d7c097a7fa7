import { INestApplicationContext } from '@nestjs/common';
import { getDataSourceToken } from '@nestjs/typeorm';
import type { Readable } from 'node:stream';
import { DataSource } from 'typeorm';
import { RoutingService } from '../../lib/index.js';
import type { PgCluster } from '../../lib/testing/index.js';
import { createTestContext } from '../support/test-app.js';
import { testCluster } from '../support/test-cluster.js';

async function rows(stream: Readable): Promise<any[]> {
  const all: any[] = [];
  for await (const row of stream) all.push(row);
  return all;
}

/** QueryRunner.stream() is routed like query(): a streamed write goes to the primary, pins and counts. */
describe('QueryRunner.stream()', () => {
  let cluster: PgCluster;
  let context: INestApplicationContext;
  let routing: RoutingService;
  let dataSource: DataSource;

  beforeAll(async () => {
    cluster = await testCluster({ replicas: 2 });
    context = await createTestContext({ cluster });
    routing = context.get(RoutingService);
    dataSource = context.get(getDataSourceToken());
    await cluster.waitForReplay();
  });
  afterAll(async () => {
    await context?.close();
    await cluster?.stop();
  });

  it('a streamed write on a read-mode runner runs on the primary, pins the set, counts, and gives the context a token', async () => {
    const runner = dataSource.createQueryRunner('slave');
    try {
      const result = await routing.run(async () => {
        const streamed = await rows(await runner.stream("INSERT INTO note (text) VALUES ('streamed') RETURNING inet_server_port() AS port"));
        return { streamed, pinned: routing.isPinned(), stats: routing.stats().sets.default, token: await routing.token() };
      });
      expect(result.streamed).toEqual([{ port: cluster.primary.port }]);
      expect(result.pinned).toBe(true);
      expect(result.stats).toMatchObject({ primary: 1, replica: 0 });
      expect(result.token).toEqual(expect.any(String));
    } finally {
      await runner.release();
    }
    expect((await cluster.query<{ n: string }>('primary', "SELECT count(*) AS n FROM note WHERE text = 'streamed'"))[0].n).toBe('1');
  });

  it('a streamed read on a read-mode runner runs on a replica and counts there', async () => {
    const runner = dataSource.createQueryRunner('slave');
    try {
      const result = await routing.run(async () => ({
        streamed: await rows(await runner.stream('SELECT inet_server_port() AS port FROM generate_series(1, 3)')),
        stats: routing.stats().sets.default,
        pinned: routing.isPinned(),
      }));
      expect(result.streamed).toHaveLength(3);
      expect(cluster.replicas.map((replica) => replica.port)).toContain(result.streamed[0].port);
      expect(result.stats).toMatchObject({ primary: 0, replica: 1 });
      expect(result.pinned).toBe(false);
    } finally {
      await runner.release();
    }
  });
});
