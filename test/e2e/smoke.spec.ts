import { Controller, Get, Post } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { RoutingService } from '../../lib/index.js';
import type { PgCluster } from '../../lib/testing/index.js';
import { createTestApp, PLATFORMS, TestApp } from '../support/test-app.js';
import { testCluster } from '../support/test-cluster.js';

@Controller()
class WhereController {
  constructor(@InjectDataSource() private readonly dataSource: DataSource, private readonly routing: RoutingService) {}

  @Get('where')
  async getWhere() {
    const row = await this.dataSource.createQueryBuilder().select('inet_server_port()', 'port').fromDummy().getRawOne();
    return { port: Number(row.port), stats: this.routing.stats() };
  }

  @Post('where')
  async postWhere() {
    return this.getWhere();
  }
}

describe.each(PLATFORMS)('smoke (%s)', (platform) => {
  let cluster: PgCluster;
  let app: TestApp;
  beforeAll(async () => {
    cluster = await testCluster({ replicas: 2 });
    app = await createTestApp({ platform, cluster, controllers: [WhereController] });
  });
  afterAll(async () => {
    await app?.close();
    await cluster?.stop();
  });

  it('GET reads on a replica, POST on the primary', async () => {
    const get = await app.get('/where');
    if (get.status !== 200) console.log(get.body);
    expect(get.status).toBe(200);
    expect(cluster.replicas.map((r) => r.port)).toContain(get.body.port);
    const post = await app.post('/where');
    expect(post.status).toBe(201);
    expect(post.body.port).toBe(cluster.primary.port);
  });
});
