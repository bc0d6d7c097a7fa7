import type { IncomingMessage, ServerResponse } from 'node:http';
import { CanActivate, ExecutionContext, Injectable, MiddlewareConsumer, Module, NestMiddleware, NestModule, RequestMethod } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { fingerprint, PinDbMiddleware } from '../../lib/index.js';
import { Note } from '../support/entities.js';
import { NoteJobs, NotesController } from '../support/notes.controller.js';
import { NotesService, readPort } from '../support/probe.js';
import { clusterApp, PLATFORMS } from '../support/test-app.js';
import { pauseReplicas, resumeReplicas } from '../support/test-cluster.js';

/** A read before the handler, as an auth step loading the user would make: did it find the note, and which server answered. */
async function loadNote(dataSource: DataSource, id: number): Promise<string> {
  const found = (await dataSource.getRepository(Note).findOneBy({ id })) !== null;
  return JSON.stringify({ found, port: await readPort(dataSource) });
}

/** The note id of GET /notes/:id (Express gives middleware the URL below its mount point in req.url, the whole one in originalUrl). */
function noteId(request: IncomingMessage & { originalUrl?: string }): number | undefined {
  const match = /^\/notes\/(\d+)/.exec(request.originalUrl ?? request.url ?? '');
  return match ? Number(match[1]) : undefined;
}

/** The user's own Nest middleware: it reads through a repository, and says what it saw in a response header. */
@Injectable()
class LoadNoteMiddleware implements NestMiddleware {
  protected readonly header: string = 'x-middleware-read';

  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async use(request: IncomingMessage, response: ServerResponse, next: (error?: unknown) => void): Promise<void> {
    try {
      const id = noteId(request);
      if (id !== undefined) response.setHeader(this.header, await loadNote(this.dataSource, id));
      next();
    } catch (error) {
      next(error);
    }
  }
}

/** The same, in a module that applies PinDbMiddleware ahead of it itself (as apps on NestJS 10 once had to). */
@Injectable()
class LoadNoteAfterPinDbMiddleware extends LoadNoteMiddleware {
  protected override readonly header = 'x-after-pindb-read';
}

/** Registered as a user would, in its module's configure(): PinDbModule's middleware opens the context ahead of every module's. */
@Module({ providers: [LoadNoteMiddleware] })
class LoadNoteModule implements NestModule {
  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(LoadNoteMiddleware).forRoutes({ path: 'notes/:id', method: RequestMethod.GET });
  }
}

/** PinDbMiddleware applied a second time: its pass sees the context open and changes nothing. */
@Module({ providers: [LoadNoteAfterPinDbMiddleware] })
class LoadNoteAfterPinDbModule implements NestModule {
  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(PinDbMiddleware, LoadNoteAfterPinDbMiddleware).forRoutes({ path: 'notes/:id', method: RequestMethod.GET });
  }
}

/** An app-wide guard that reads the same way (Express's res and Fastify's reply both have header()). */
@Injectable()
class LoadNoteGuard implements CanActivate {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async canActivate(execution: ExecutionContext): Promise<boolean> {
    const http = execution.switchToHttp();
    const id = http.getRequest<{ params?: Record<string, string> }>().params?.id;
    if (id !== undefined && /^\d+$/.test(id))
      http.getResponse<{ header(name: string, value: string): void }>().header('x-guard-read', await loadNote(this.dataSource, Number(id)));
    return true;
  }
}

/** fingerprint keys a client by its address, User-Agent and Accept-Language: two user agents on one machine are two clients. */
const ALICE = { 'user-agent': 'alice-browser/1.0', 'accept-language': 'en' };
const BOB = { 'user-agent': 'bob-browser/1.0', 'accept-language': 'en' };

describe.each(PLATFORMS)("a cookieless client's stored token applies to reads before the handler (%s)", (platform) => {
  const env = clusterApp(platform, () => ({
    // No cookie, no header: the token lives only in the default MemoryPinStore, under the client's fingerprint.
    pindb: { cookie: false, header: false, clientKey: fingerprint },
    imports: [LoadNoteModule, LoadNoteAfterPinDbModule],
    controllers: [NotesController],
    providers: [NotesService, NoteJobs, { provide: APP_GUARD, useClass: LoadNoteGuard }],
  }));
  beforeAll(() => env.cluster.waitForReplay()); // the schema, made at startup
  // Replicas that do not replay the write: only the stored token can send the client's reads to it.
  beforeEach(() => pauseReplicas(env.cluster));
  afterEach(() => resumeReplicas(env.cluster));

  /** Alice writes a note; her token goes to the store, not to her. */
  async function aliceWrites(text: string): Promise<number> {
    const created = await fetch(`${env.app.url}/notes`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...ALICE },
      body: JSON.stringify({ text }),
    });
    expect(created.status).toBe(201);
    expect(created.headers.getSetCookie()).toEqual([]);
    expect(created.headers.get('x-pindb-token')).toBeNull();
    const { id } = (await created.json()) as { id: number };
    const [row] = await env.cluster.query<{ text: string }>('primary', 'SELECT text FROM note WHERE id = $1', [id]);
    expect(row?.text).toBe(text);
    return id;
  }

  /** GET /notes/:id as `client`: what the read before the handler (in `header`) and the handler's own read saw. */
  async function reads(
    client: Record<string, string>,
    id: number,
    header: string,
  ): Promise<{ before: { found: boolean; port: number }; handler: { found: boolean; port: number } }> {
    const response = await fetch(`${env.app.url}/notes/${id}`, { headers: client });
    expect(response.status).toBe(200);
    return { before: JSON.parse(response.headers.get(header)!), handler: (await response.json()) as { found: boolean; port: number } };
  }

  it.each([
    ['a Nest middleware of its own module', 'x-middleware-read'],
    ['a Nest middleware behind PinDbMiddleware applied again', 'x-after-pindb-read'],
    ['an app-wide guard', 'x-guard-read'],
  ])("the client's write, then its GET: %s reads the note on the primary; another client's reads a replica that lacks it", async (_, header) => {
    const id = await aliceWrites(`read by ${header}`);
    const primary = { found: true, port: env.cluster.primary.port };

    const alice = await reads(ALICE, id, header);
    expect(alice.before).toEqual(primary);
    expect(alice.handler).toMatchObject(primary);

    const bob = await reads(BOB, id, header);
    for (const seen of [bob.before, bob.handler]) {
      expect(seen.found).toBe(false);
      expect(env.replicaPorts).toContain(seen.port);
    }
  });
});
