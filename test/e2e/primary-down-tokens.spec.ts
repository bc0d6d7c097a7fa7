import { ArgumentsHost, Catch, ExceptionFilter } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { NoDatabaseAvailableError } from '../../lib/index.js';
import { PinDbRouter } from '../../lib/routing/pin-db.router.js';
import { FAST_HEALTH } from '../support/failover.js';
import { NoteJobs, NotesController } from '../support/notes.controller.js';
import { NotesService, ProbeController } from '../support/probe.js';
import { clusterApp, PLATFORMS } from '../support/test-app.js';
import { describeWithFaults } from '../support/test-cluster.js';
import { cookieFrom, signToken, until } from '../support/token-cookies.js';

const SECRET = 'a test secret that is long enough';

/** What an app would answer: a 503 naming the set (Express's res.json(), Fastify's reply.send()). */
@Catch(NoDatabaseAvailableError)
class NoDatabaseFilter implements ExceptionFilter {
  catch(error: NoDatabaseAvailableError, host: ArgumentsHost) {
    const response = host.switchToHttp().getResponse();
    const body = { error: error.name, set: error.set };
    if ('json' in response) response.status(503).json(body);
    else response.code(503).send(body);
  }
}

describeWithFaults('tokens while the primary is down', () => {
  describe.each(PLATFORMS)('%s', (platform) => {
    const env = clusterApp(platform, () => ({
      pindb: { health: FAST_HEALTH, cookie: { secret: SECRET } },
      controllers: [NotesController, ProbeController],
      providers: [NotesService, NoteJobs, { provide: APP_FILTER, useClass: NoDatabaseFilter }],
    }));
    const primaryUp = () => env.app.app.get(PinDbRouter).forSet('default').primary.up;
    let noteId: number;

    beforeAll(async () => {
      // A note every replica has, for reads while the primary is gone.
      noteId = (await env.app.post('/notes', { text: 'before the primary stopped' })).body.id;
      await env.cluster.waitForReplay();
      await env.cluster.stopPrimary('immediate');
      // Routing knows the primary is down once a health check has failed.
      await until(() => !primaryUp());
    });
    afterAll(() => env.cluster.startPrimary().catch(() => undefined));

    /** GET /notes/:id, with the client's cookie if it has one. */
    async function readNote(cookie: string | undefined) {
      const response = await fetch(`${env.app.url}/notes/${noteId}`, { headers: cookie ? { cookie } : {} });
      return { status: response.status, body: (await response.json()) as { found?: boolean; port?: number } };
    }

    it('(a) a POST that fails because the primary is unreachable hands out no token: the same client goes on reading the replicas', async () => {
      const write = await fetch(`${env.app.url}/notes`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"text":"while down"}' });
      expect(write.status).toBe(503);
      expect(await write.json()).toEqual({ error: 'NoDatabaseAvailableError', set: 'default' });
      // No token, or one that clears what the client had: nothing was written that it could miss.
      const cookie = cookieFrom(write);
      expect([undefined, '']).toContain(cookie);
      expect(write.headers.get('x-pindb-token') ?? '').toBe('');

      for (let i = 0; i < 3; i++) {
        const read = await readNote(cookie);
        expect(read.status).toBe(200);
        expect(read.body.found).toBe(true);
        expect(env.replicaPorts).toContain(read.body.port);
      }
    });

    it('(b) a validly signed token entry without a WAL position (a pin by time) is read by a replica while the primary is down', async () => {
      const cookie = `pindb=${signToken(env.app.app, { expiresAt: Date.now() + 10_000 })}`;
      const read = await readNote(cookie);
      expect(read.status).toBe(200);
      expect(read.body.found).toBe(true);
      expect(env.replicaPorts).toContain(read.body.port);
    });

    it('once the primary is back: the refused write is not there, and a write hands out a token again', async () => {
      await env.cluster.startPrimary();
      await until(primaryUp);
      const [{ count }] = await env.cluster.query<{ count: string }>('primary', "SELECT count(*) FROM note WHERE text = 'while down'");
      expect(Number(count)).toBe(0);
      const write = await fetch(`${env.app.url}/notes`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"text":"after"}' });
      expect(write.status).toBe(201);
      expect(cookieFrom(write)).toMatch(/^pindb=.+/);
    });
  });
});
