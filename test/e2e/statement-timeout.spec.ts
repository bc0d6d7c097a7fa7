import { Controller, Get } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { RoutingService } from '../../lib/index.js';
import { clusterApp } from '../support/test-app.js';

/** Reads built by TypeORM (replicas) and dataSource.query() (primary), reporting what the server said. */
@Controller('timeouts')
class TimeoutsController {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly routing: RoutingService,
  ) {}

  private replicaRead(select: string) {
    return this.dataSource.createQueryBuilder().select(select, 'value').addSelect('inet_server_port()', 'port').fromDummy().getRawOne();
  }

  @Get('settings')
  async settings() {
    const replica = await this.replicaRead("current_setting('statement_timeout')");
    const [primary] = await this.dataSource.query("SELECT current_setting('statement_timeout') AS value, inet_server_port() AS port");
    return { replica, primary };
  }

  @Get('long-replica-read')
  async longReplicaRead() {
    try {
      await this.replicaRead('pg_sleep(5)');
      return { failed: false };
    } catch (error) {
      return { failed: true, code: (error as { driverError?: { code?: string } }).driverError?.code, stats: this.routing.stats() };
    }
  }

  @Get('primary-read')
  async primaryRead() {
    const [row] = await this.dataSource.query('SELECT pg_sleep(0.5), inet_server_port() AS port');
    return row;
  }
}

describe('statementTimeoutMs', () => {
  const env = clusterApp('express', () => ({
    pindb: { statementTimeoutMs: { replica: 300, primary: 4000 } },
    controllers: [TimeoutsController],
  }));

  it("sets each role's statement_timeout on its connections", async () => {
    const { body } = await env.app.get('/timeouts/settings');
    expect(env.replicaPorts).toContain(Number(body.replica.port));
    expect(body.replica.value).toBe('300ms');
    expect(body.primary).toMatchObject({ value: '4s', port: env.cluster.primary.port });
  });

  it('a replica read past the replica timeout fails with the timeout error (57014) and is not retried elsewhere', async () => {
    const { body } = await env.app.get('/timeouts/long-replica-read');
    expect(body).toMatchObject({ failed: true, code: '57014' });
    const stats = body.stats.sets.default;
    expect(stats).toMatchObject({ replica: 1, primary: 0, retries: 0, fallbacks: 0 });
  });

  it('a statement within the primary timeout runs', async () => {
    const { status, body } = await env.app.get('/timeouts/primary-read');
    expect(status).toBe(200);
    expect(body.port).toBe(env.cluster.primary.port);
  });
});
