import { PinDbRouter } from '../../lib/routing/pin-db.router.js';
import { parseLsn } from '../../lib/tokens/lsn.js';
import { NoteJobs, NotesController } from '../support/notes.controller.js';
import { NotesService } from '../support/probe.js';
import { clusterApp, PLATFORMS } from '../support/test-app.js';
import { cookieFrom, decodeToken, maxAgeOf, pindbSetCookie, signedToken, signToken, tokenOf } from '../support/token-cookies.js';

const SECRET = 'a test secret that is long enough';
const YEAR_MS = 365 * 24 * 3600 * 1000;

/**
 * A token is signed, but what it says is only as good as the server that made it: one from a
 * primary since rebuilt (or from a misconfigured instance) may name a WAL position this primary
 * never reaches, or an expiry years away. Either would keep the client on the primary for good.
 */
describe.each(PLATFORMS)('validly signed tokens are clamped to what this primary and this server would give (%s)', (platform) => {
  const env = clusterApp(platform, () => ({
    pindb: { cookie: { secret: SECRET } },
    controllers: [NotesController],
    providers: [NotesService, NoteJobs],
  }));
  let noteId: number;

  beforeAll(async () => {
    // A note every replica has replayed, so that a replica can serve each read below.
    noteId = (await env.app.post('/notes', { text: 'replayed everywhere' })).body.id;
    await env.cluster.waitForReplay();
  });

  async function primaryLsn(): Promise<bigint> {
    const [{ lsn }] = await env.cluster.query<{ lsn: string }>('primary', 'SELECT pg_current_wal_lsn()::text AS lsn');
    return parseLsn(lsn)!;
  }

  async function call(method: 'GET' | 'POST', path: string, cookie: string) {
    const response = await fetch(env.app.url + path, {
      method,
      headers: { 'content-type': 'application/json', cookie },
      body: method === 'POST' ? '{"text":"with a clamped token"}' : undefined,
    });
    return { status: response.status, body: (await response.json()) as any, setCookie: pindbSetCookie(response), cookie: cookieFrom(response) };
  }

  it('a WAL position far ahead of the primary does not keep reads on the primary: a replica serves the GET', async () => {
    const far = (await primaryLsn()) + 2n ** 40n;
    const read = await call('GET', `/notes/${noteId}`, `pindb=${signToken(env.app.app, { lsn: far, expiresAt: Date.now() + 10_000 })}`);
    expect(read.status).toBe(200);
    expect(read.body.found).toBe(true);
    expect(env.replicaPorts).toContain(read.body.port);
  });

  it('a POST with that far position hands back the position of its own commit, not the far one', async () => {
    const before = await primaryLsn();
    const far = before + 2n ** 40n;
    const written = await call('POST', '/notes', `pindb=${signToken(env.app.app, { lsn: far, expiresAt: Date.now() + 10_000 })}`);
    expect(written.status).toBe(201);
    const after = await primaryLsn();
    const [row] = await env.cluster.query<{ text: string }>('primary', 'SELECT text FROM note WHERE id = $1', [written.body.id]);
    expect(row?.text).toBe('with a clamped token');

    expect(written.cookie).toMatch(/^pindb=.+/);
    const entry = decodeToken(env.app.app, tokenOf(written.cookie!)).get('default');
    // The commit came after `before` and no later than `after`: the primary's own position.
    expect(entry?.lsn).toBeDefined();
    expect(entry!.lsn).not.toBe(far);
    expect(entry!.lsn).toBeGreaterThan(before);
    expect(entry!.lsn).toBeLessThanOrEqual(after);
  });

  it('an expiry years ahead is brought back to the token lifetime: the re-issued cookie lives no longer', async () => {
    const lifetimeSeconds = env.app.app.get(PinDbRouter).tokens.lifetimeMs / 1000;
    const written = await call('POST', '/notes', `pindb=${signToken(env.app.app, { lsn: await primaryLsn(), expiresAt: Date.now() + 5 * YEAR_MS })}`);
    expect(written.status).toBe(201);
    expect(written.setCookie).toBeDefined();
    const maxAge = maxAgeOf(written.setCookie!);
    expect(maxAge).toBeGreaterThan(0);
    expect(maxAge).toBeLessThanOrEqual(lifetimeSeconds);
    // And so does the token inside, as signed (expiries are kept to the second).
    const entry = signedToken(tokenOf(written.cookie!), SECRET)!.get('default');
    expect(entry!.expiresAt).toBeLessThanOrEqual(Date.now() + lifetimeSeconds * 1000 + 1000);
  });
});
