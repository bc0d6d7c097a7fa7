import { FAST_HEALTH, healthRounds, replicaHost } from '../support/failover.js';
import { NoteJobs, NotesController } from '../support/notes.controller.js';
import { NotesService } from '../support/probe.js';
import { clusterApp, PLATFORMS } from '../support/test-app.js';
import { pauseReplicas, resumeReplicas } from '../support/test-cluster.js';
import { cookieFrom, maxAgeOf, pindbSetCookie, until } from '../support/token-cookies.js';

const SECRET = 'a test secret that is long enough';
const PIN_SECONDS = 1;
const MAX_LAG_SECONDS = 10;

/**
 * In lsn mode a token must outlive every lag at which a replica still serves reads: a replica up
 * to maxLagSeconds behind is readable, so a token that expired after pinSeconds would let one that
 * has not replayed the client's write serve the client again.
 */
describe.each(PLATFORMS)('a token outlives every lag at which a replica still serves (%s)', (platform) => {
  const env = clusterApp(platform, () => ({
    pindb: { pinSeconds: PIN_SECONDS, health: { ...FAST_HEALTH, maxLagSeconds: MAX_LAG_SECONDS }, cookie: { secret: SECRET } },
    controllers: [NotesController],
    providers: [NotesService, NoteJobs],
  }));
  beforeAll(() => env.cluster.waitForReplay()); // the schema, made at startup
  // Replicas that do not replay the write, yet stay within maxLagSeconds for the whole test.
  beforeEach(() => pauseReplicas(env.cluster));
  afterEach(() => resumeReplicas(env.cluster));

  it('past pinSeconds, with the replicas still readable and behind, the cookie still sends the read to the primary', async () => {
    const wroteAt = Date.now();
    const created = await fetch(`${env.app.url}/notes`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"text":"outlives pinSeconds"}',
    });
    expect(created.status).toBe(201);
    const { id } = (await created.json()) as { id: number };
    const cookie = cookieFrom(created);
    expect(cookie).toMatch(/^pindb=.+/);

    // The condition here is elapsed time itself: past pinSeconds, and the second it is rounded to.
    await until(() => Date.now() - wroteAt > (PIN_SECONDS + 1.5) * 1000);
    // A health check since then still finds both replicas readable: they would serve a read.
    await healthRounds(env.app.app, 1);
    expect([replicaHost(env.app.app, 0).readable, replicaHost(env.app.app, 1).readable]).toEqual([true, true]);

    const mine = await env.app.get(`/notes/${id}`, { headers: { cookie: cookie! } });
    expect(mine.status).toBe(200);
    expect(mine.body).toMatchObject({ found: true, port: env.cluster.primary.port });
    // Without the token, a replica serves, and it lacks the note: what the token protects against.
    const theirs = await env.app.get(`/notes/${id}`);
    expect(theirs.body.found).toBe(false);
    expect(env.replicaPorts).toContain(theirs.body.port);

    expect(maxAgeOf(pindbSetCookie(created)!)).toBeGreaterThanOrEqual(MAX_LAG_SECONDS);
  });
});
