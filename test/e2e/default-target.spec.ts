import { Controller, Get, Post } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { RoutingService, UseReplica } from '../../lib/index.js';
import { NoteJobs, NotesController } from '../support/notes.controller.js';
import { NotesService, readPort } from '../support/probe.js';
import { clusterApp, createTestApp, PLATFORMS, TestApp } from '../support/test-app.js';
import { pauseReplicas, resumeReplicas } from '../support/test-cluster.js';

const SECRET = 'a test secret that is long enough';

/** Each answer says which server served the read, and where routing.target() said reads go. */
@Controller('default-target')
class DefaultTargetController {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly routing: RoutingService,
  ) {}

  private async answer() {
    return { port: await readPort(this.dataSource), target: this.routing.target(), pinned: this.routing.isPinned() };
  }

  @Get('plain')
  plain() {
    return this.answer();
  }

  @Get('decorated')
  @UseReplica()
  decorated() {
    return this.answer();
  }

  /** A POST is pinned by its method; @UseReplica keeps its reads on replicas, as with defaultTarget 'replica'. */
  @Post('decorated')
  @UseReplica()
  decoratedPost() {
    return this.answer();
  }

  @Get('scope')
  async scope() {
    const inside = await this.routing.useReplica(() => this.answer());
    return { inside, after: await this.answer() };
  }
}

async function call(app: TestApp, method: 'GET' | 'POST', path: string, token?: string) {
  const response = await fetch(app.url + path, {
    method,
    headers: { 'content-type': 'application/json', ...(token ? { 'x-pindb-token': token } : {}) },
    body: method === 'POST' ? '{}' : undefined,
  });
  return { status: response.status, body: (await response.json()) as any, token: response.headers.get('x-pindb-token') };
}

describe.each(PLATFORMS)("defaultTarget: 'primary' (%s)", (platform) => {
  const controllers = [DefaultTargetController, NotesController];
  const providers = [NotesService, NoteJobs];
  const env = clusterApp(platform, () => ({ pindb: { defaultTarget: 'primary', cookie: { secret: SECRET } }, controllers, providers }));
  /** The same app with the default ('replica'), on the same cluster and secret: another instance, mid-rollout. */
  let replicaFirst: TestApp;
  beforeAll(async () => {
    replicaFirst = await createTestApp({ platform, cluster: env.cluster, pindb: { cookie: { secret: SECRET } }, controllers, providers });
    await env.cluster.waitForReplay(); // the schema, made at startup
  });
  afterAll(() => replicaFirst?.close());

  it('an unpinned GET reads the primary, and routing.target() says so', async () => {
    const { body } = await call(env.app, 'GET', '/default-target/plain');
    expect(body).toEqual({ port: env.cluster.primary.port, target: 'primary', pinned: false });
    // The other instance, with the default, reads a replica.
    expect(env.replicaPorts).toContain((await call(replicaFirst, 'GET', '/default-target/plain')).body.port);
  });

  it('a @UseReplica handler reads a replica', async () => {
    const { body } = await call(env.app, 'GET', '/default-target/decorated');
    expect(env.replicaPorts).toContain(body.port);
    expect(body.target).toBe('replica');
  });

  it('pins keep their meaning: a POST is pinned by its method, and its @UseReplica still reads a replica', async () => {
    const { body } = await call(env.app, 'POST', '/default-target/decorated');
    expect(body.pinned).toBe(true);
    expect(env.replicaPorts).toContain(body.port);
  });

  it('a useReplica scope reads a replica; the code after it reads the primary again', async () => {
    const { body } = await call(env.app, 'GET', '/default-target/scope');
    expect(env.replicaPorts).toContain(body.inside.port);
    expect(body.inside.target).toBe('replica');
    expect(body.after).toEqual({ port: env.cluster.primary.port, target: 'primary', pinned: false });
  });

  it('tokens keep their meaning: a write hands one out, and an instance with the default honours it (the primary until a replica has replayed it)', async () => {
    await pauseReplicas(env.cluster);
    let created: Awaited<ReturnType<typeof call>>;
    try {
      created = await call(env.app, 'POST', '/notes');
      expect(created.status).toBe(201);
      expect(created.token).toMatch(/^[\w-]+\.[\w-]+$/);

      // Its own instance reads the primary anyway: the note is there.
      expect((await call(env.app, 'GET', `/notes/${created.body.id}`, created.token!)).body).toMatchObject({ found: true, port: env.cluster.primary.port });
      // The other instance, whose reads go to replicas, waits for the token's position: no replica has it, so the primary.
      expect((await call(replicaFirst, 'GET', `/notes/${created.body.id}`, created.token!)).body).toMatchObject({
        found: true,
        port: env.cluster.primary.port,
      });
      // Without the token, a replica that has not replayed the write.
      const theirs = (await call(replicaFirst, 'GET', `/notes/${created.body.id}`)).body;
      expect(theirs.found).toBe(false);
      expect(env.replicaPorts).toContain(theirs.port);
    } finally {
      await resumeReplicas(env.cluster);
    }
    await env.cluster.waitForReplay();
    const later = (await call(replicaFirst, 'GET', `/notes/${created.body.id}`, created.token!)).body;
    expect(later.found).toBe(true);
    expect(env.replicaPorts).toContain(later.port);
  });
});
