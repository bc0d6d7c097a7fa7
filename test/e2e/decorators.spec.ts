import { CanActivate, Controller, ExecutionContext, Get, Injectable, Post, Req, UseGuards } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { Pin, RoutingService, UseReplica } from '../../lib/index.js';
import { NotesService, readPort } from '../support/probe.js';
import { clusterApp, PLATFORMS } from '../support/test-app.js';

/** A guard that loads "the user" with a read, as an auth guard does, and keeps where it was served. */
@Injectable()
class LoadUserGuard implements CanActivate {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async canActivate(execution: ExecutionContext): Promise<boolean> {
    execution.switchToHttp().getRequest().guardPort = await readPort(this.dataSource);
    return true;
  }
}

/**
 * The same, app-wide: provided in the root module, where apps put their auth guard. Nest runs the
 * root module's APP_GUARDs before those of imported modules such as PinDbModule's.
 */
@Injectable()
class GlobalLoadUserGuard implements CanActivate {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async canActivate(execution: ExecutionContext): Promise<boolean> {
    execution.switchToHttp().getRequest().globalGuardPort = await readPort(this.dataSource);
    return true;
  }
}

abstract class Probe {
  constructor(
    protected readonly dataSource: DataSource,
    protected readonly routing: RoutingService,
    protected readonly notes: NotesService,
  ) {}

  protected async answer() {
    return { port: await readPort(this.dataSource), pinned: this.routing.isPinned() };
  }
}

@Controller('handler')
@UseGuards(LoadUserGuard)
class HandlerLevelController extends Probe {
  constructor(@InjectDataSource() dataSource: DataSource, routing: RoutingService, notes: NotesService) {
    super(dataSource, routing, notes);
  }

  @Get('pin')
  @Pin()
  pin() {
    return this.answer();
  }

  @Get('plain')
  plain() {
    return this.answer();
  }

  @Post('use-replica')
  @UseReplica()
  async useReplica() {
    const note = await this.notes.write('written under @UseReplica');
    return { ...(await this.answer()), id: note.id };
  }
}

@Controller('pinned-class')
@Pin('default')
class PinnedController extends Probe {
  constructor(@InjectDataSource() dataSource: DataSource, routing: RoutingService, notes: NotesService) {
    super(dataSource, routing, notes);
  }

  @Get()
  read() {
    return this.answer();
  }

  /** The handler's decorator wins over the controller's. */
  @Get('feed')
  @UseReplica()
  feed() {
    return this.answer();
  }
}

@Controller('replica-class')
@UseReplica()
class ReplicaController extends Probe {
  constructor(@InjectDataSource() dataSource: DataSource, routing: RoutingService, notes: NotesService) {
    super(dataSource, routing, notes);
  }

  @Post()
  post() {
    return this.answer();
  }

  /** The handler's @Pin replaces the controller's @UseReplica. */
  @Get('pinned')
  @Pin()
  pinned() {
    return this.answer();
  }
}

/** Each handler answers with the port its guard's read was served by. */
@Controller('guarded')
@UseGuards(LoadUserGuard)
class GuardedController {
  @Get('plain')
  plain(@Req() request: { guardPort: number }) {
    return { guardPort: request.guardPort };
  }

  @Post('post')
  post(@Req() request: { guardPort: number }) {
    return { guardPort: request.guardPort };
  }

  @Get('pinned')
  @Pin()
  pinned(@Req() request: { guardPort: number; globalGuardPort: number }) {
    return { guardPort: request.guardPort, globalGuardPort: request.globalGuardPort };
  }
}

describe.each(PLATFORMS)('@Pin and @UseReplica (%s)', (platform) => {
  const env = clusterApp(platform, () => ({
    controllers: [HandlerLevelController, PinnedController, ReplicaController, GuardedController],
    providers: [NotesService, LoadUserGuard, { provide: APP_GUARD, useClass: GlobalLoadUserGuard }],
  }));

  it('@Pin() on a handler sends its reads to the primary; its neighbour reads replicas', async () => {
    expect((await env.app.get('/handler/pin')).body).toEqual({ port: env.cluster.primary.port, pinned: true });
    const plain = (await env.app.get('/handler/plain')).body;
    expect(plain.pinned).toBe(false);
    expect(env.replicaPorts).toContain(plain.port);
  });

  it('@Pin on a controller pins each of its handlers', async () => {
    expect((await env.app.get('/pinned-class')).body).toEqual({ port: env.cluster.primary.port, pinned: true });
  });

  it("@UseReplica on a handler wins over the controller's @Pin", async () => {
    const { body } = await env.app.get('/pinned-class/feed');
    expect(env.replicaPorts).toContain(body.port);
  });

  it("@Pin on a handler wins over the controller's @UseReplica", async () => {
    expect((await env.app.get('/replica-class/pinned')).body).toEqual({ port: env.cluster.primary.port, pinned: true });
  });

  it('an app-wide guard provided in the root module honours @Pin too', async () => {
    const { body } = await env.app.get('/guarded/pinned');
    expect(body.globalGuardPort).toBe(env.cluster.primary.port);
  });

  it('@UseReplica on a controller keeps the reads of a POST on replicas', async () => {
    const { body } = await env.app.post('/replica-class');
    expect(body.pinned).toBe(true);
    expect(env.replicaPorts).toContain(body.port);
  });

  it('@UseReplica keeps reads on replicas while its writes still go to the primary', async () => {
    const { status, body } = await env.app.post('/handler/use-replica');
    expect(status).toBe(201);
    expect(env.replicaPorts).toContain(body.port);
    const rows = await env.cluster.query('primary', 'SELECT text FROM note WHERE id = $1', [body.id]);
    expect(rows).toEqual([{ text: 'written under @UseReplica' }]);
  });

  it.each([
    ['a plain GET', 'replica', 'GET', '/guarded/plain'],
    ['a POST (pinned by its method)', 'primary', 'POST', '/guarded/post'],
    ['a GET with @Pin()', 'primary', 'GET', '/guarded/pinned'],
  ])('a guard that reads (as one that loads the user) in %s reads from the %s', async (_what, expected, method, path) => {
    const response = await fetch(`${env.app.url}${path}`, { method });
    const { guardPort } = (await response.json()) as { guardPort: number };
    if (expected === 'primary') expect(guardPort).toBe(env.cluster.primary.port);
    else expect(env.replicaPorts).toContain(guardPort);
  });
});
