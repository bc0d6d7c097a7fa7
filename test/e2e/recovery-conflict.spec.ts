import { Controller, Get } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { RoutingService } from '../../lib/index.js';
import { clusterApp } from '../support/test-app.js';
import { describeWithFaults } from '../support/test-cluster.js';

const ROWS = 50;

@Controller('conflict')
class ConflictController {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly routing: RoutingService,
  ) {}

  /** A read that holds its snapshot for a second and a half. */
  @Get('slow-count')
  async slowCount() {
    const row = await this.dataSource
      .createQueryBuilder()
      .select('(SELECT count(*) FROM conflict_rows)::int', 'n')
      .addSelect('inet_server_port()', 'port')
      .addSelect('pg_sleep(1.5)::text', 'slept')
      .fromDummy()
      .getRawOne();
    return { n: row.n, port: row.port, stats: this.routing.stats().sets.default };
  }
}

// A standby cancels a query whose snapshot still sees rows that a VACUUM replayed from the
// primary removes, once max_standby_streaming_delay has passed (hot_standby_feedback is off).
describeWithFaults('a read cancelled by a recovery conflict', () => {
  const env = clusterApp('express', () => ({ controllers: [ConflictController] }), { settings: { max_standby_streaming_delay: '100ms' } });
  beforeAll(async () => {
    await env.cluster.query('primary', `CREATE TABLE conflict_rows AS SELECT i AS id, 0 AS v FROM generate_series(1, ${ROWS}) AS i`);
    await env.cluster.waitForReplay();
  });

  it('is retried on another server, and the caller sees the rows', async () => {
    const read = env.app.get('/conflict/slow-count');
    await new Promise((resolve) => setTimeout(resolve, 300));
    // New versions of every row, then the old ones removed: the read's snapshot still sees those.
    await env.cluster.query('primary', 'UPDATE conflict_rows SET v = v + 1');
    await env.cluster.query('primary', 'VACUUM conflict_rows');
    const { status, body } = await read;

    expect(status).toBe(200);
    expect(body.n).toBe(ROWS);
    expect(body.stats.retries).toBeGreaterThanOrEqual(1);
    expect(body.stats.fallbacks).toBe(0);
    expect([...env.replicaPorts, env.cluster.primary.port]).toContain(Number(body.port));
  });
});
