import { ArgumentsHost, Catch, Controller, ExceptionFilter, Get } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { APP_FILTER } from '@nestjs/core';
import { NoDatabaseAvailableError, Pin } from '../../lib/index.js';
import { concurrentReads, FAST_HEALTH } from '../support/failover.js';
import { NoteJobs, NotesController } from '../support/notes.controller.js';
import { NotesService, ProbeController, readPort } from '../support/probe.js';
import { clusterApp } from '../support/test-app.js';
import { describeWithFaults } from '../support/test-cluster.js';

/** What an app would do with the error: a 503 that names the set and server. */
@Catch(NoDatabaseAvailableError)
class NoDatabaseFilter implements ExceptionFilter {
  catch(error: NoDatabaseAvailableError, host: ArgumentsHost) {
    host.switchToHttp().getResponse().status(503).json({ error: error.name, set: error.set, server: error.server, message: error.message });
  }
}

@Controller('pinned')
class PinnedController {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  @Get()
  @Pin()
  async read() {
    return { port: await readPort(this.dataSource) };
  }
}

describeWithFaults('the primary down', () => {
  const env = clusterApp('express', () => ({
    pindb: { health: FAST_HEALTH },
    controllers: [ProbeController, NotesController, PinnedController],
    providers: [NotesService, NoteJobs, { provide: APP_FILTER, useClass: NoDatabaseFilter }],
  }));
  afterAll(() => env.cluster.startPrimary().catch(() => undefined));

  it('unpinned GETs are served by the replicas; a POST and a pinned read fail with NoDatabaseAvailableError naming the set and the primary; after a restart, writes work again', async () => {
    const { id } = (await env.app.post('/notes', { text: 'before' })).body;
    await env.cluster.waitForReplay();
    await env.cluster.stopPrimary('immediate');

    const reads = await concurrentReads(env.app, 40);
    expect(reads.map((answer) => answer.status)).toEqual(Array(40).fill(200));
    expect(new Set(reads.map((answer) => answer.port))).toEqual(new Set(env.replicaPorts));
    const note = await env.app.get(`/notes/${id}`);
    expect(note.body).toMatchObject({ found: true });

    const write = await env.app.post('/notes', { text: 'while down' });
    expect(write.status).toBe(503);
    expect(write.body).toMatchObject({ error: 'NoDatabaseAvailableError', set: 'default', server: `127.0.0.1:${env.cluster.primary.port}` });
    expect(write.body.message).toMatch(/ECONNREFUSED|connect/);

    const pinned = await env.app.get('/pinned');
    expect(pinned.status).toBe(503);
    expect(pinned.body).toMatchObject({ error: 'NoDatabaseAvailableError', set: 'default' });

    await env.cluster.startPrimary();
    expect((await env.app.get('/pinned')).body).toEqual({ port: env.cluster.primary.port });
    const after = await env.app.post('/notes', { text: 'after' });
    expect(after.status).toBe(201);
    const [row] = await env.cluster.query<{ text: string }>('primary', 'SELECT text FROM note WHERE id = $1', [after.body.id]);
    expect(row.text).toBe('after');
  });
});
