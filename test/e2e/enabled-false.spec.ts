import { Controller, Get } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { RoutingService } from '../../lib/index.js';
import { NotesService, readPort } from '../support/probe.js';
import { clusterApp } from '../support/test-app.js';

@Controller()
class DisabledController {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly routing: RoutingService,
    private readonly notes: NotesService,
  ) {}

  @Get('read')
  async read() {
    return { port: await readPort(this.dataSource), target: this.routing.target(), useReplica: await this.routing.useReplica(() => readPort(this.dataSource)) };
  }

  @Get('write')
  async write() {
    await this.notes.write('strict is off too');
    return { port: await readPort(this.dataSource) };
  }
}

describe('enabled: false', () => {
  const env = clusterApp('express', () => ({
    pindb: { enabled: false, mode: 'strict' },
    controllers: [DisabledController],
    providers: [NotesService],
  }));

  it('sends every read to the primary, even under useReplica, and opens no replica connection', async () => {
    for (let i = 0; i < 3; i++) {
      expect((await env.app.get('/read')).body).toEqual({ port: env.cluster.primary.port, target: 'primary', useReplica: env.cluster.primary.port });
    }
    for (const i of [0, 1]) {
      const clients = await env.cluster.query(i, "SELECT 1 FROM pg_stat_activity WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()");
      expect(clients).toEqual([]);
    }
  });

  it('lets user code run unchanged: a GET that writes works even in strict mode', async () => {
    const { status, body } = await env.app.get('/write');
    expect(status).toBe(200);
    expect(body.port).toBe(env.cluster.primary.port);
    expect(await env.cluster.query('primary', "SELECT text FROM note WHERE text = 'strict is off too'")).toHaveLength(1);
  });
});
