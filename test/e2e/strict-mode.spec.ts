import { Controller, Get, HttpException, Post, UseFilters, Catch, ExceptionFilter, ArgumentsHost } from '@nestjs/common';
import { Pin, RoutingService, UnpinnedWriteError } from '../../lib/index.js';
import { Note } from '../support/entities.js';
import { NotesService } from '../support/probe.js';
import { StatementLog } from '../support/statement-log.js';
import { clusterApp, PLATFORMS } from '../support/test-app.js';

/** Shows the routing error to the test instead of a bare 500. */
@Catch(UnpinnedWriteError)
class UnpinnedWriteFilter implements ExceptionFilter {
  catch(error: UnpinnedWriteError, host: ArgumentsHost) {
    const response = host.switchToHttp().getResponse();
    const body = { error: error.name, message: error.message };
    if (typeof response.status === 'function' && typeof response.json === 'function') response.status(409).json(body);
    else response.code(409).send(body);
  }
}

@Controller('strict')
@UseFilters(UnpinnedWriteFilter)
class StrictController {
  constructor(
    private readonly notes: NotesService,
    private readonly routing: RoutingService,
  ) {}

  @Get('unpinned-write')
  async unpinnedWrite() {
    await this.notes.write('must not be written');
    return 'written';
  }

  @Get('pinned-write')
  @Pin()
  async pinnedWrite() {
    await this.notes.write('pinned by @Pin');
    return 'written';
  }

  @Get('pin-then-write')
  async pinThenWrite() {
    this.routing.pin('default');
    await this.notes.write('pinned by routing.pin');
    return 'written';
  }

  @Get('use-primary-write')
  async usePrimaryWrite() {
    await this.routing.usePrimary(() => this.notes.write('inside usePrimary'));
    return { pinnedAfter: this.routing.isPinned() };
  }

  @Post('write')
  async postWrite() {
    await this.notes.write('POST is pinned by its method');
    return 'written';
  }

  @Get('raw-write')
  async rawWrite() {
    try {
      await this.notes.notes.query(`INSERT INTO note (text) VALUES ('raw, must not be written')`);
    } catch (error) {
      throw new HttpException({ error: (error as Error).name }, 409);
    }
    return 'written';
  }
}

describe.each(PLATFORMS)('strict mode (%s)', (platform) => {
  const log = new StatementLog();
  const env = clusterApp(platform, () => ({
    pindb: { mode: 'strict', typeorm: { entities: [Note], synchronize: true, retryAttempts: 0, logger: log } },
    controllers: [StrictController],
    providers: [NotesService],
  }));
  const count = async (text: string) =>
    Number((await env.cluster.query<{ n: string }>('primary', 'SELECT count(*) AS n FROM note WHERE text = $1', [text]))[0].n);

  it('refuses a write to an unpinned set with UnpinnedWriteError, before any SQL is sent', async () => {
    log.clear();
    const { status, body } = await env.app.get('/strict/unpinned-write');
    expect(status).toBe(409);
    expect(body.error).toBe('UnpinnedWriteError');
    expect(body.message).toMatch(/database set "default".*@Pin\('default'\).*routing\.pin\('default'\)/);
    // Not even START TRANSACTION, nor the ROLLBACK TypeORM sends after the error.
    expect(log.statements).toEqual([]);
    expect(await count('must not be written')).toBe(0);
  });

  it('refuses a raw INSERT through query() too', async () => {
    log.clear();
    const { status, body } = await env.app.get('/strict/raw-write');
    expect(log.statements).toEqual([]);
    expect(status).toBe(409);
    expect(body.error).toBe('UnpinnedWriteError');
    expect(await count('raw, must not be written')).toBe(0);
  });

  it.each([
    ['@Pin()', '/strict/pinned-write', 'pinned by @Pin'],
    ['routing.pin()', '/strict/pin-then-write', 'pinned by routing.pin'],
  ])('allows the write once the set is pinned by %s', async (_how, path, text) => {
    const { status } = await env.app.get(path);
    expect(status).toBe(200);
    expect(await count(text)).toBe(1);
  });

  it('allows a write inside usePrimary', async () => {
    const { status, body } = await env.app.get('/strict/use-primary-write');
    expect(status).toBe(200);
    expect(await count('inside usePrimary')).toBe(1);
    // The write is recorded: the rest of the request reads its own write from the primary.
    expect(body.pinnedAfter).toBe(true);
  });

  it('allows a write in a POST, which is pinned by its method', async () => {
    const { status } = await env.app.post('/strict/write');
    expect(status).toBe(201);
    expect(await count('POST is pinned by its method')).toBe(1);
  });
});
