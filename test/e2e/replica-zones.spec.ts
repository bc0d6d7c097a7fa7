import type { INestApplicationContext } from '@nestjs/common';
import { getDataSourceToken } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { RoutingService } from '../../lib/index.js';
import type { PgCluster } from '../../lib/testing/index.js';
import { FAST_HEALTH } from '../support/failover.js';
import { NotesService, readPort } from '../support/probe.js';
import { createTestContext } from '../support/test-app.js';
import { describeWithFaults, testCluster } from '../support/test-cluster.js';

describeWithFaults('replica zones', () => {
  let cluster: PgCluster;
  let context: INestApplicationContext;
  let routing: RoutingService;
  let dataSource: DataSource;
  let other: number;
  let local: number;

  /** This instance is in zone a; replica 0 in zone b, replica 1 in zone a. */
  const start = (zone: string | undefined) =>
    createTestContext({
      cluster,
      pindb: {
        sets: {
          default: {
            primary: cluster.primary,
            replicas: [
              { ...cluster.replicas[0], zone: 'b' },
              { ...cluster.replicas[1], zone: 'a' },
            ],
          },
        },
        zone,
        health: FAST_HEALTH,
      },
      providers: [NotesService],
    });

  beforeAll(async () => {
    cluster = await testCluster({ replicas: 2 });
    [other, local] = cluster.replicas.map((replica) => replica.port);
    context = await start('a');
    routing = context.get(RoutingService);
    dataSource = context.get(getDataSourceToken());
  });
  afterAll(async () => {
    await context?.close();
    await cluster?.stop();
  });

  const reads = (n: number, token?: string) =>
    routing.run(
      async () => {
        const ports: number[] = [];
        for (let i = 0; i < n; i++) ports.push(await readPort(dataSource));
        return ports;
      },
      { token },
    );
  /** Reads (one per context) until one is served by `port`, within 20 s. */
  const untilServedBy = async (port: number, token?: string) => {
    const deadline = Date.now() + 20_000;
    let last: number | undefined;
    while (Date.now() < deadline && (last = (await reads(1, token))[0]) !== port) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(last).toBe(port);
  };

  it("with zone 'a', every read goes to the replica of zone a", async () => {
    await untilServedBy(local);
    expect(new Set(await reads(200))).toEqual(new Set([local]));
  });

  it('a read the zone’s replica has not caught up with (a token) goes to the other zone, and back once it has', async () => {
    await untilServedBy(local);
    await cluster.pauseReplay(1);
    let token: string | undefined;
    try {
      token = await routing.run(async () => {
        await context.get(NotesService).write('zones');
        return routing.token();
      });
      expect(token).toBeDefined();
      await cluster.waitForReplay({ replicas: [0] });
      // Each context carries the token: replica 1 (zone a) is behind it, replica 0 (zone b) has it.
      for (let i = 0; i < 10; i++) expect(await reads(3, token)).toEqual([other, other, other]);
      // Without the token, the zone's replica still serves.
      expect(await reads(3)).toEqual([local, local, local]);
    } finally {
      await cluster.resumeReplay(1);
    }
    await cluster.waitForReplay({ replicas: [1] });
    await untilServedBy(local, token);
    expect(new Set(await reads(20, token))).toEqual(new Set([local]));
  });

  it('the zone’s replica down: reads go to the other zone, and back when it is up again', async () => {
    await untilServedBy(local);
    await cluster.stopReplica(1, 'immediate');
    try {
      await untilServedBy(other);
      expect(new Set(await reads(50))).toEqual(new Set([other]));
    } finally {
      await cluster.startReplica(1);
    }
    await untilServedBy(local);
    expect(new Set(await reads(50))).toEqual(new Set([local]));
  });

  it('without the module zone, zones are ignored: both replicas serve', async () => {
    const zoneless = await start(undefined);
    try {
      const ports = new Set<number>();
      const deadline = Date.now() + 20_000;
      const ds = zoneless.get<DataSource>(getDataSourceToken());
      while (ports.size < 2 && Date.now() < deadline) ports.add(await zoneless.get(RoutingService).run(() => readPort(ds)));
      expect(ports).toEqual(new Set([other, local]));
    } finally {
      await zoneless.close();
    }
  });
});
