import { CanActivate, Controller, ExecutionContext, Injectable, MessageEvent, Post, Req, Res, Sse, StreamableFile, UseGuards } from '@nestjs/common';
import { concat, map, NEVER, Observable, of, Subject } from 'rxjs';
import { NoteJobs, NotesController } from '../support/notes.controller.js';
import { NotesService } from '../support/probe.js';
import { clusterApp, PLATFORMS } from '../support/test-app.js';
import { pauseReplicas, resumeReplicas } from '../support/test-cluster.js';
import { cookieFrom } from '../support/token-cookies.js';

const SECRET = 'a test secret that is long enough';

/** Express's response and Fastify's reply, as far as these handlers use them. */
interface ExpressResponse {
  status(code: number): ExpressResponse;
  json(body: unknown): void;
}
type OwnResponse = ExpressResponse | { code(code: number): { send(body: unknown): void } };

/**
 * Writes the note an event stream announces, before the stream opens (as an endpoint that records
 * a subscription would). In a guard: Nest sends an event stream's headers on the next tick after
 * calling the handler, whatever the handler still awaits, so a write in the handler's own setup is
 * still in flight when they (and the token) go out: that case is (d) below.
 */
@Injectable()
class RecordSubscription implements CanActivate {
  constructor(private readonly notes: NotesService) {}

  async canActivate(execution: ExecutionContext): Promise<boolean> {
    execution.switchToHttp().getRequest<{ noteId?: number }>().noteId = (await this.notes.write('via SSE')).id;
    return true;
  }
}

/** A live feed: its events come when the test publishes them, so an event stream's headers go out before its first event. */
@Injectable()
class Feed {
  readonly published = new Subject<void>();
}

/**
 * Handlers that make their response themselves: the interceptor never sees an answer it could
 * put a token on before the headers go, so only a token written with the headers reaches the client.
 */
@Controller('own')
class OwnResponseController {
  constructor(
    private readonly notes: NotesService,
    private readonly feed: Feed,
  ) {}

  /** (a) @Res(): the handler sends the response itself (Express res.json(), Fastify reply.send()). */
  @Post('res')
  async viaRes(@Res() res: OwnResponse): Promise<void> {
    const { id } = await this.notes.write('via @Res');
    if ('json' in res) res.status(201).json({ id });
    else res.code(201).send({ id });
  }

  /** (b) @Sse(): a GET that wrote (in its guard), then streams the feed's events, and stays open. */
  @Sse('sse')
  @UseGuards(RecordSubscription)
  events(@Req() request: { noteId: number }): Observable<MessageEvent> {
    return this.feed.published.pipe(map(() => ({ data: { id: request.noteId } })));
  }

  /**
   * (d) @Sse() whose handler writes in its own async setup: the stream's headers (and the token)
   * go out while the write is still running, before its position is known.
   */
  @Sse('sse-writing')
  async writingEvents(): Promise<Observable<MessageEvent>> {
    const { id } = await this.notes.write('via SSE, written in the handler');
    return concat(of({ data: { id } }), NEVER);
  }

  /** (c) A StreamableFile: Nest pipes it to the response after the handler returns. */
  @Post('file')
  async file(): Promise<StreamableFile> {
    const { id } = await this.notes.write('via a stream');
    return new StreamableFile(Buffer.from(JSON.stringify({ id })), { type: 'application/json' });
  }
}

/** What a client got from a handler that wrote a note: the note's id, and the token on the response. */
interface Written {
  status: number;
  id: number;
  cookie?: string;
  header: string | null;
}

/**
 * Opens an event stream and, once its headers have arrived (before any event, so only a token
 * written with the headers can be there), has the feed publish; reads until the first event, then
 * hangs up (the stream itself never ends).
 */
async function firstEvent(url: string, publish: () => void): Promise<Written & { contentType: string | null }> {
  const abort = new AbortController();
  const response = await fetch(url, { signal: abort.signal, headers: { accept: 'text/event-stream' } });
  publish();
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  let text = '';
  try {
    while (!/^data: .*\n\n/m.test(text)) {
      const { value, done } = await reader.read();
      if (done) throw new Error(`the event stream ended before its first event: ${JSON.stringify(text)}`);
      text += decoder.decode(value, { stream: true });
    }
  } finally {
    abort.abort();
  }
  const data = JSON.parse(/^data: (.*)$/m.exec(text)![1]);
  return {
    status: response.status,
    id: data.id,
    cookie: cookieFrom(response),
    header: response.headers.get('x-pindb-token'),
    contentType: response.headers.get('content-type'),
  };
}

async function postFor(url: string): Promise<Written> {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
  const body = JSON.parse(await response.text());
  return { status: response.status, id: body.id, cookie: cookieFrom(response), header: response.headers.get('x-pindb-token') };
}

describe.each(PLATFORMS)('handlers that send their own response hand out a token (%s)', (platform) => {
  const env = clusterApp(platform, () => ({
    pindb: { cookie: { secret: SECRET } },
    controllers: [OwnResponseController, NotesController],
    providers: [NotesService, NoteJobs, RecordSubscription, Feed],
  }));
  beforeAll(() => env.cluster.waitForReplay()); // the schema, made at startup
  // Replicas that do not replay the write: only the token can send the client's read to it.
  beforeEach(() => pauseReplicas(env.cluster));
  afterEach(() => resumeReplicas(env.cluster));

  /** The client's next read with the cookie sees its note on the primary; another client's, on a replica that lacks it. */
  async function expectReadYourWrite(written: Written, text: string): Promise<void> {
    expect(written.cookie).toMatch(/^pindb=.+/);
    expect(written.header).toBe(written.cookie!.slice('pindb='.length));
    const [row] = await env.cluster.query<{ text: string }>('primary', 'SELECT text FROM note WHERE id = $1', [written.id]);
    expect(row?.text).toBe(text);

    const mine = await env.app.get(`/notes/${written.id}`, { headers: { cookie: written.cookie! } });
    expect(mine.status).toBe(200);
    expect(mine.body).toMatchObject({ found: true, port: env.cluster.primary.port });

    const theirs = await env.app.get(`/notes/${written.id}`);
    expect(theirs.status).toBe(200);
    expect(theirs.body.found).toBe(false);
    expect(env.replicaPorts).toContain(theirs.body.port);
  }

  it('(a) @Res() writing the response itself: the response carries the token, and the next read with it sees the note', async () => {
    const written = await postFor(`${env.app.url}/own/res`);
    expect(written.status).toBe(201);
    await expectReadYourWrite(written, 'via @Res');
  });

  it('(b) @Sse(): the event stream carries the token in its headers, and the next read with it sees the note', async () => {
    const written = await firstEvent(`${env.app.url}/own/sse`, () => env.app.app.get(Feed).published.next());
    expect(written.status).toBe(200);
    expect(written.contentType).toMatch(/^text\/event-stream/);
    await expectReadYourWrite(written, 'via SSE');
  });

  it('(d) @Sse() that writes in the handler while its headers go out: the token covers the write still running, and the next read with it sees the note', async () => {
    const written = await firstEvent(`${env.app.url}/own/sse-writing`, () => undefined);
    expect(written.status).toBe(200);
    // A token with the last position seen (from before the write) would send this read to a paused replica.
    await expectReadYourWrite(written, 'via SSE, written in the handler');
  });

  it('(c) a StreamableFile: the streamed response carries the token, and the next read with it sees the note', async () => {
    const written = await postFor(`${env.app.url}/own/file`);
    expect(written.status).toBe(201);
    await expectReadYourWrite(written, 'via a stream');
  });
});
