import { Controller, Get, Injectable, Post } from '@nestjs/common';
import { InjectDataSource, InjectRepository, TypeOrmModule } from '@nestjs/typeorm';
import { Column, DataSource, Entity, PrimaryGeneratedColumn, Repository } from 'typeorm';
import { Pin, PinDbModuleOptions, RoutingService } from '../../lib/index.js';
import { Note } from '../support/entities.js';
import { readPort } from '../support/probe.js';
import { clusterApp, PLATFORMS } from '../support/test-app.js';

@Entity()
class PageView {
  @PrimaryGeneratedColumn()
  id!: number;

  @Column()
  path!: string;
}

@Injectable()
class Ports {
  constructor(
    @InjectDataSource() private readonly shop: DataSource,
    @InjectDataSource('analytics') private readonly analytics: DataSource,
    private readonly routing: RoutingService,
  ) {}

  async both() {
    return {
      default: await readPort(this.shop),
      analytics: await readPort(this.analytics),
      pinned: { default: this.routing.isPinned('default'), analytics: this.routing.isPinned('analytics') },
    };
  }
}

@Controller()
class SetsController {
  constructor(
    private readonly ports: Ports,
    private readonly routing: RoutingService,
    @InjectRepository(PageView, 'analytics') private readonly views: Repository<PageView>,
  ) {}

  @Get('read')
  read() {
    return this.ports.both();
  }

  @Get('pin-analytics')
  @Pin('analytics')
  pinAnalytics() {
    return this.ports.both();
  }

  @Get('track')
  async track() {
    await this.views.save(this.views.create({ path: '/track' }));
    return this.ports.both();
  }

  @Get('pin-call')
  pinCall() {
    this.routing.pin('analytics');
    return this.ports.both();
  }

  @Post('write')
  post() {
    return this.ports.both();
  }
}

describe.each(PLATFORMS)('several database sets (%s)', (platform) => {
  const env = clusterApp(platform, async (cluster) => {
    // The analytics set is a second database on the same servers; its replicas name only their port.
    await cluster.query('primary', 'CREATE DATABASE analytics');
    await cluster.waitForReplay();
    const analyticsUrl = cluster.primary.url.replace(/\/postgres$/, '/analytics');
    return {
      pindb: {
        sets: {
          default: { primary: cluster.primary, replicas: cluster.replicas },
          analytics: { primary: { url: analyticsUrl }, replicas: cluster.replicas.map(({ port }) => ({ port })), typeorm: { entities: [PageView] } },
        },
        typeorm: { entities: [Note], synchronize: true, retryAttempts: 0 },
      } as Partial<PinDbModuleOptions>,
      imports: [TypeOrmModule.forFeature([PageView], 'analytics')],
      controllers: [SetsController],
      providers: [Ports],
    };
  });

  it('gives each set its own DataSource on its own database', async () => {
    const databases = await env.cluster.query<{ datname: string }>(
      'primary',
      "SELECT DISTINCT datname FROM pg_stat_activity WHERE datname IN ('postgres', 'analytics') ORDER BY 1",
    );
    expect(databases.map((d) => d.datname)).toEqual(['analytics', 'postgres']);
    expect(await env.cluster.query('primary', "SELECT to_regclass('page_view') AS t")).toEqual([{ t: null }]);
  });

  it('reads both sets from replicas when nothing is pinned', async () => {
    const { body } = await env.app.get('/read');
    expect(env.replicaPorts).toContain(body.default);
    expect(env.replicaPorts).toContain(body.analytics);
  });

  it('@Pin("analytics") pins that set only', async () => {
    const { body } = await env.app.get('/pin-analytics');
    expect(body.analytics).toBe(env.cluster.primary.port);
    expect(env.replicaPorts).toContain(body.default);
    expect(body.pinned).toEqual({ default: false, analytics: true });
  });

  it('a write to one set pins that set only (greedy)', async () => {
    const { body } = await env.app.get('/track');
    expect(body.pinned).toEqual({ default: false, analytics: true });
    expect(body.analytics).toBe(env.cluster.primary.port);
    expect(env.replicaPorts).toContain(body.default);
  });

  it('routing.pin("analytics") pins that set only', async () => {
    const { body } = await env.app.get('/pin-call');
    expect(body.pinned).toEqual({ default: false, analytics: true });
  });

  it('a POST pins every set', async () => {
    const { body } = await env.app.post('/write');
    expect(body).toMatchObject({ default: env.cluster.primary.port, analytics: env.cluster.primary.port });
  });
});
