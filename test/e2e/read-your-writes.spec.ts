import { NoteJobs, NotesController } from '../support/notes.controller.js';
import { NotesService } from '../support/probe.js';
import { clusterApp, PLATFORMS, TestApp } from '../support/test-app.js';

const SECRET = 'a test secret that is long enough';

/** The pindb cookie a response sets, as `name=value` to send back, or '' when it clears it. */
function cookieFrom(response: Response): string | undefined {
  const set = response.headers.getSetCookie().find((cookie) => cookie.startsWith('pindb='));
  if (!set) return undefined;
  return /Max-Age=0/.test(set) ? '' : set.split(';')[0];
}

async function call(app: TestApp, method: string, path: string, headers: Record<string, string> = {}) {
  const response = await fetch(app.url + path, {
    method,
    headers: { 'content-type': 'application/json', ...headers },
    body: method === 'GET' ? undefined : '{}',
  });
  return { status: response.status, body: (await response.json()) as any, cookie: cookieFrom(response), header: response.headers.get('x-pindb-token') };
}

describe.each(PLATFORMS)('read-your-writes by WAL position, replicas 2 s behind (%s)', (platform) => {
  const env = clusterApp(platform, async (cluster) => {
    await cluster.setApplyDelay(0, 2000);
    await cluster.setApplyDelay(1, 2000);
    return { pindb: { cookie: { secret: SECRET } }, controllers: [NotesController], providers: [NotesService, NoteJobs] };
  });
  beforeAll(() => env.cluster.waitForReplay()); // the schema, made at startup

  it('a POST gives a cookie; the next GET with it sees the write on the primary; another client reads a replica; after replay, a replica serves and the cookie is cleared', async () => {
    const created = await call(env.app, 'POST', '/notes');
    expect(created.status).toBe(201);
    expect(created.cookie).toMatch(/^pindb=.+/);

    const mine = await call(env.app, 'GET', `/notes/${created.body.id}`, { cookie: created.cookie! });
    expect(mine.body).toMatchObject({ found: true, port: env.cluster.primary.port });
    expect(mine.cookie).toBeUndefined(); // unchanged: not sent again

    const theirs = await call(env.app, 'GET', `/notes/${created.body.id}`);
    expect(theirs.body.found).toBe(false);
    expect(env.replicaPorts).toContain(theirs.body.port);

    await env.cluster.waitForReplay();
    const later = await call(env.app, 'GET', `/notes/${created.body.id}`, { cookie: created.cookie! });
    expect(later.body.found).toBe(true);
    expect(env.replicaPorts).toContain(later.body.port);
    expect(later.cookie).toBe('');
  });

  it('with one replica caught up and one paused, the read goes to the caught-up replica, not the primary', async () => {
    await env.cluster.setApplyDelay(0, 0);
    await env.cluster.pauseReplay(1);
    try {
      const created = await call(env.app, 'POST', '/notes');
      await env.cluster.waitForReplay({ replicas: [0] });
      for (let i = 0; i < 3; i++) {
        const read = await call(env.app, 'GET', `/notes/${created.body.id}`, { cookie: created.cookie! });
        expect(read.body).toMatchObject({ found: true, port: env.cluster.replicas[0].port });
        // Replica 1 is still behind: the token stays.
        expect(read.cookie).toBeUndefined();
      }
    } finally {
      await env.cluster.resumeReplay(1);
      await env.cluster.setApplyDelay(0, 2000);
    }
  });

  it('the header carries the token for API clients', async () => {
    const created = await call(env.app, 'POST', '/notes');
    expect(created.header).toMatch(/^[\w-]+\.[\w-]+$/);
    const mine = await call(env.app, 'GET', `/notes/${created.body.id}`, { 'x-pindb-token': created.header! });
    expect(mine.body).toMatchObject({ found: true, port: env.cluster.primary.port });
  });

  it('a job run with the token captured after a write reads that write; without it, a replica that has not', async () => {
    const withToken = await call(env.app, 'POST', '/notes/with-job');
    expect(withToken.body.job).toEqual({ found: true, port: env.cluster.primary.port });
    const jobs = env.app.app.get(NoteJobs);
    const before = jobs.results.length;
    const withoutToken = await fetch(`${env.app.url}/notes/with-job`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"withToken":false}',
    });
    expect(withoutToken.status).toBe(201);
    expect(jobs.results[before]).toMatchObject({ found: false });
    expect(env.replicaPorts).toContain(jobs.results[before].port);
  });
});
