import { Controller, Get } from '@nestjs/common';
import { HealthCheck, HealthCheckService, TerminusModule } from '@nestjs/terminus';
import { PinDbRouter } from '../../lib/routing/pin-db.router.js';
import { PinDbHealthIndicator } from '../../lib/terminus/index.js';
import { FAST_HEALTH, healthRounds, replicaHost } from '../support/failover.js';
import { HealthController, MetricsController, scrape } from '../support/observability.js';
import { NotesService, ProbeController } from '../support/probe.js';
import { clusterApp, createTestApp } from '../support/test-app.js';
import { describeWithFaults } from '../support/test-cluster.js';

/** A health endpoint the public may reach: flags only, no server addresses or driver errors. */
@Controller()
class PublicHealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly pindb: PinDbHealthIndicator,
  ) {}

  @Get('health/public')
  @HealthCheck()
  check() {
    return this.health.check([() => this.pindb.isHealthy('database', { details: false })]);
  }
}

/** Every server in a `details: false` body has only up/readable/lagging, and no address shows anywhere. */
function expectFlagsOnly(body: any, servers: string[]): void {
  for (const set of Object.values(body.details.database.sets) as { primary: object; replicas: object[] }[]) {
    for (const server of [set.primary, ...set.replicas]) expect(Object.keys(server).every((key) => ['up', 'readable', 'lagging'].includes(key))).toBe(true);
  }
  const text = JSON.stringify(body);
  for (const server of servers) expect(text).not.toContain(server);
}

describeWithFaults('observability: the Terminus indicator and the Prometheus metrics', () => {
  const env = clusterApp('express', (cluster) => ({
    // `solo` has no replicas: the monitor checks its primary all the same.
    // (The same database as `default`'s: one synchronize at a time, or the two race to create the table.)
    pindb: {
      health: FAST_HEALTH,
      sets: { default: { primary: cluster.primary, replicas: cluster.replicas }, solo: { primary: cluster.primary, typeorm: { synchronize: false } } },
    },
    // logger: false: Terminus logs every failed check as an error; the 503s below are expected.
    imports: [TerminusModule.forRoot({ logger: false })],
    controllers: [ProbeController, HealthController, PublicHealthController, MetricsController],
    providers: [NotesService, PinDbHealthIndicator],
  }));
  afterAll(() => env.cluster?.startPrimary().catch(() => undefined));

  const servers = () => {
    const router = env.app.app.get(PinDbRouter).forSet('default');
    return { primary: router.set.primary.label, replicas: [0, 1].map((i) => replicaHost(env.app.app, i).label) };
  };
  const statements = (scraped: Awaited<ReturnType<typeof scrape>>, role: string, server: string) =>
    scraped('pindb_statements_total', { set: 'default', role, server }) ?? 0;

  it('/health is up with both replicas readable, and details per server', async () => {
    await healthRounds(env.app.app, 1);
    const { primary, replicas } = servers();
    const { status, body } = await env.app.get('/health');

    expect(status).toBe(200);
    expect(body.status).toBe('ok');
    expect(body.details.database.status).toBe('up');
    const set = body.details.database.sets.default;
    expect(set.primary).toMatchObject({ server: primary, up: true });
    expect(set.replicas).toEqual(
      replicas.map((server) =>
        expect.objectContaining({ server, up: true, readable: true, lagging: false, lagBytes: expect.any(Number), lagSeconds: expect.any(Number) }),
      ),
    );
    expect(set.replicas.every((replica: { downUntil?: string }) => replica.downUntil === undefined)).toBe(true);
    expect(body.details.database.sets.solo).toEqual({ primary: { server: primary, up: true, checkedAt: expect.any(String) }, replicas: [] });
  });

  it('/health/public ({ details: false }): the same verdict, with only up/readable/lagging per set and server index', async () => {
    const { primary, replicas } = servers();
    const { status, body } = await env.app.get('/health/public');
    expect(status).toBe(200);
    expect(body.details.database.status).toBe('up');
    expect(body.details.database.sets).toEqual({
      default: { primary: { up: true }, replicas: [0, 1].map(() => ({ up: true, readable: true, lagging: false })) },
      solo: { primary: { up: true }, replicas: [] },
    });
    expectFlagsOnly(body, [primary, ...replicas]);
  });

  it('/metrics counts statements by role and server, tokens issued after a POST and ignored tokens', async () => {
    const { primary, replicas } = servers();
    const before = await scrape(env.app);
    expect(before('pindb_retries_total', { set: 'default' })).toBeDefined(); // every series exists from the start
    expect(before('pindb_fallbacks_total', { set: 'default' })).toBeDefined();

    for (let i = 0; i < 4; i++) expect((await env.app.get('/probe/read')).status).toBe(200);
    const afterReads = await scrape(env.app);
    const replicaReads = replicas.map((server) => statements(afterReads, 'replica', server) - statements(before, 'replica', server));
    expect(replicaReads).toEqual([2, 2]); // round robin over the two replicas
    expect(statements(afterReads, 'primary', primary)).toBe(statements(before, 'primary', primary));

    const issued = afterReads('pindb_tokens_issued_total') ?? 0;
    expect((await env.app.post('/probe/read')).status).toBe(201);
    const afterPost = await scrape(env.app);
    expect(afterPost('pindb_tokens_issued_total')).toBe(issued + 1);
    expect(statements(afterPost, 'primary', primary)).toBe(statements(afterReads, 'primary', primary) + 1);

    const ignored = afterPost('pindb_tokens_ignored_total') ?? 0;
    expect((await env.app.get('/probe/read', { headers: { 'x-pindb-token': 'forged' } })).status).toBe(200);
    expect((await scrape(env.app))('pindb_tokens_ignored_total')).toBe(ignored + 1);
  });

  it('a stopped replica: /health stays up (the primary answers) with the replica down in its details, /metrics shows it unreadable; both recover after a restart', async () => {
    const { primary, replicas } = servers();
    let scraped = await scrape(env.app);
    expect(replicas.map((server) => scraped('pindb_replica_readable', { set: 'default', server }))).toEqual([1, 1]);

    await env.cluster.stopReplica(0, 'fast');
    await healthRounds(env.app.app, 2);

    const down = await env.app.get('/health');
    expect(down.status).toBe(200);
    expect(down.body.details.database.status).toBe('up');
    const [stopped, other] = down.body.details.database.sets.default.replicas;
    expect(stopped).toMatchObject({ server: replicas[0], up: false, readable: false, error: expect.any(String) });
    expect(stopped.lagBytes).toBeUndefined(); // its last reading is stale
    expect(other).toMatchObject({ server: replicas[1], up: true, readable: true });
    const publicDown = await env.app.get('/health/public');
    expect(publicDown.status).toBe(200);
    expect(publicDown.body.details.database.sets.default.replicas).toEqual([
      { up: false, readable: false, lagging: expect.any(Boolean) },
      { up: true, readable: true, lagging: false },
    ]);
    expectFlagsOnly(publicDown.body, [primary, ...replicas, stopped.error]);

    scraped = await scrape(env.app);
    expect(replicas.map((server) => scraped('pindb_replica_readable', { set: 'default', server }))).toEqual([0, 1]);
    expect(replicas.map((server) => scraped('pindb_replica_up', { set: 'default', server }))).toEqual([0, 1]);
    expect(scraped('pindb_replica_lag_bytes', { set: 'default', server: replicas[0] })).toBeUndefined(); // no stale lag for a server that is down
    expect(scraped('pindb_replica_lag_bytes', { set: 'default', server: replicas[1] })).toEqual(expect.any(Number));
    expect(scraped('pindb_primary_up', { set: 'default', server: primary })).toBe(1);

    await env.cluster.startReplica(0);
    await healthRounds(env.app.app, 2);
    const back = await env.app.get('/health');
    expect(back.body.details.database.sets.default.replicas[0]).toMatchObject({ server: replicas[0], up: true, readable: true });
    scraped = await scrape(env.app);
    expect(replicas.map((server) => scraped('pindb_replica_readable', { set: 'default', server }))).toEqual([1, 1]);
  });

  it('a second app in the same process shares the metrics instead of failing, and leaves them to the first when it closes', async () => {
    const { replicas } = servers();
    const second = await createTestApp({ platform: 'express', cluster: env.cluster, controllers: [ProbeController], providers: [NotesService] });
    try {
      const before = await scrape(env.app);
      expect((await second.get('/probe/read')).status).toBe(200);
      const after = await scrape(env.app); // the first app's /metrics: the same registry
      const reads = replicas.map((server) => statements(after, 'replica', server) - statements(before, 'replica', server));
      expect(reads.reduce((sum, n) => sum + n, 0)).toBe(1);
    } finally {
      await second.close();
    }
    const before = await scrape(env.app);
    expect(before('pindb_replica_readable', { set: 'default', server: replicas[1] })).toBe(1);
    expect((await env.app.get('/probe/read')).status).toBe(200);
    const after = await scrape(env.app);
    const reads = replicas.map((server) => statements(after, 'replica', server) - statements(before, 'replica', server));
    expect(reads.reduce((sum, n) => sum + n, 0)).toBe(1);
  });

  it('the primary stopped: /health answers 503 with the primary down in its details and pindb_primary_up 0; both recover after a restart', async () => {
    const { primary } = servers();
    await env.cluster.stopPrimary('fast');
    await healthRounds(env.app.app, 2);

    const down = await env.app.get('/health');
    expect(down.status).toBe(503);
    expect(down.body.status).toBe('error');
    expect(down.body.error.database.status).toBe('down');
    expect(down.body.details.database.sets.default.primary).toMatchObject({ server: primary, up: false, error: expect.any(String) });
    expect(down.body.details.database.sets.solo.primary).toMatchObject({ server: primary, up: false, error: expect.any(String) });
    const publicDown = await env.app.get('/health/public');
    expect(publicDown.status).toBe(503);
    expect(publicDown.body.error.database.status).toBe('down');
    expect(publicDown.body.details.database.sets.default.primary).toEqual({ up: false });
    expectFlagsOnly(publicDown.body, [primary, down.body.details.database.sets.default.primary.error]);
    expect((await scrape(env.app))('pindb_primary_up', { set: 'default', server: primary })).toBe(0);

    await env.cluster.startPrimary();
    await healthRounds(env.app.app, 2);
    const back = await env.app.get('/health');
    expect(back.status).toBe(200);
    expect(back.body.details.database.sets.default.primary).toMatchObject({ server: primary, up: true });
    expect(back.body.details.database.sets.solo.primary).toMatchObject({ server: primary, up: true });
    expect((await scrape(env.app))('pindb_primary_up', { set: 'default', server: primary })).toBe(1);
  });
});
