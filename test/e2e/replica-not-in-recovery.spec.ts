import { getDataSourceToken } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import type { PgCluster } from '../../lib/testing/index.js';
import { concurrentReads, FAST_HEALTH, replicaHost } from '../support/failover.js';
import { NotesService, ProbeController, readPort } from '../support/probe.js';
import { createTestApp, createTestContext } from '../support/test-app.js';
import { describeWithFaults, testCluster } from '../support/test-cluster.js';

// Replica 1 is promoted before any app starts: a primary of its own, listed as a replica (a
// misconfigured set). It would serve data that no longer follows the set's primary, and take the
// writes a replica would refuse, so it must not serve a single read, not even before the first
// health check would have found out.
describeWithFaults('a "replica" that is not in recovery (a standalone primary)', () => {
  let cluster: PgCluster;
  let realReplica: number;
  beforeAll(async () => {
    cluster = await testCluster({ replicas: 2 });
    await cluster.query(1, 'SELECT pg_promote()');
    expect(await cluster.query(1, 'SELECT pg_is_in_recovery() AS recovery')).toEqual([{ recovery: false }]);
    realReplica = cluster.replicas[0].port;
  });
  afterAll(() => cluster?.stop());

  it('serves none of the reads sent the moment the app is initialised; the real replica serves them all', async () => {
    const context = await createTestContext({ cluster, pindb: { health: FAST_HEALTH } });
    try {
      const dataSource = context.get<DataSource>(getDataSourceToken());
      // All sent at once, in the tick init() resolved in: no health round can run in between.
      const ports = await Promise.all(Array.from({ length: 20 }, () => readPort(dataSource)));
      expect(new Set(ports)).toEqual(new Set([realReplica]));
      expect(replicaHost(context, 1)).toMatchObject({ promoted: true, readable: false });
      expect(replicaHost(context, 0)).toMatchObject({ promoted: false, readable: true });
    } finally {
      await context.close();
    }
  });

  it('over HTTP: the first requests are served by the real replica alone, none falls back to the primary', async () => {
    const app = await createTestApp({
      platform: 'express',
      cluster,
      pindb: { health: FAST_HEALTH },
      controllers: [ProbeController],
      providers: [NotesService],
    });
    try {
      const first = await concurrentReads(app, 20);
      expect(first.map((answer) => answer.status)).toEqual(Array(20).fill(200));
      expect(new Set(first.map((answer) => answer.port))).toEqual(new Set([realReplica]));
      expect(first.filter((answer) => answer.fallbacks > 0 || answer.retries > 0)).toEqual([]);
    } finally {
      await app.close();
    }
  });
});
