import { Body, Controller, Get, Inject, Post, Res } from '@nestjs/common';
import { Pin } from '../../lib/index.js';
import { NoteJobs, NotesController } from '../support/notes.controller.js';
import { NotesService } from '../support/probe.js';
import { clusterApp, PLATFORMS } from '../support/test-app.js';
import { pauseReplicas, resumeReplicas } from '../support/test-cluster.js';
import { cookieFrom } from '../support/token-cookies.js';

/** Writes a note on the primary over a connection of its own, as another service would: PinDb sees no write, and no commit position. */
const OUTSIDE_WRITE = Symbol('OUTSIDE_WRITE');
type OutsideWrite = (text: string) => Promise<number>;

/** Express's response and Fastify's reply, as far as the @Res() handler uses them. */
interface ExpressResponse {
  status(code: number): ExpressResponse;
  json(body: unknown): void;
}
type OwnResponse = ExpressResponse | { code(code: number): { send(body: unknown): void } };

/**
 * Requests pinned without a write of their own: their token must carry the primary's position as
 * of their end, read before the response's headers, however the handler answers.
 */
@Controller('outside')
class OutsideWritesController {
  constructor(@Inject(OUTSIDE_WRITE) private readonly write: OutsideWrite) {}

  /** A POST (pinned by its method) that returns its answer. */
  @Post()
  async returned(@Body() body: { text: string }) {
    return { id: await this.write(body.text) };
  }

  /** A POST whose handler sends the response itself. */
  @Post('res')
  async viaRes(@Body() body: { text: string }, @Res() res: OwnResponse): Promise<void> {
    const id = await this.write(body.text);
    if ('json' in res) res.status(201).json({ id });
    else res.code(201).send({ id });
  }

  /** A GET pinned by @Pin(). */
  @Get('pinned')
  @Pin()
  async pinned() {
    return { id: await this.write('by a @Pin() GET') };
  }
}

describe.each(PLATFORMS)("a request pinned without a write of its own hands out the primary's position at its end (%s)", (platform) => {
  const env = clusterApp(platform, (cluster) => ({
    // Health checks far apart: the last position they saw is older than every write below, so only a position read for the response covers it.
    pindb: { health: { intervalMs: 600_000 } },
    controllers: [OutsideWritesController, NotesController],
    providers: [
      NotesService,
      NoteJobs,
      {
        provide: OUTSIDE_WRITE,
        useValue: (async (text) => {
          const [row] = await cluster.query<{ id: number }>('primary', 'INSERT INTO note (text) VALUES ($1) RETURNING id', [text]);
          return row.id;
        }) satisfies OutsideWrite,
      },
    ],
  }));
  beforeAll(() => env.cluster.waitForReplay()); // the schema, made at startup
  // Replicas that do not replay the write: only a token past it sends the client's read to the primary.
  beforeEach(() => pauseReplicas(env.cluster));
  afterEach(() => resumeReplicas(env.cluster));

  it.each([
    ['a POST returning its answer', 'POST', '/outside', 'returned', 201],
    ['a POST whose @Res() handler sends the response itself', 'POST', '/outside/res', 'via @Res', 201],
    ['a GET with @Pin()', 'GET', '/outside/pinned', 'by a @Pin() GET', 200],
  ])('%s: the next read with its cookie sees the note on the primary; another client reads a replica that lacks it', async (_, method, path, text, status) => {
    const response = await fetch(env.app.url + path, {
      method,
      headers: { 'content-type': 'application/json' },
      body: method === 'POST' ? JSON.stringify({ text }) : undefined,
    });
    expect(response.status).toBe(status);
    const { id } = (await response.json()) as { id: number };
    const cookie = cookieFrom(response);
    expect(cookie).toMatch(/^pindb=.+/);

    const mine = await env.app.get(`/notes/${id}`, { headers: { cookie: cookie! } });
    expect(mine.body).toMatchObject({ found: true, port: env.cluster.primary.port });

    const theirs = await env.app.get(`/notes/${id}`);
    expect(theirs.body.found).toBe(false);
    expect(env.replicaPorts).toContain(theirs.body.port);
  });
});
