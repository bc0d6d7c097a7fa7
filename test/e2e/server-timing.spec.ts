import { Controller, Get, NotFoundException, Res } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import type { RoutingStats } from '../../lib/index.js';
import { NotesService, ProbeController, readPort } from '../support/probe.js';
import { clusterApp, createTestApp, PLATFORMS, TestApp } from '../support/test-app.js';

@Controller('timing')
class TimingController {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** Reads, then fails: the error response carries the counts too. */
  @Get('fails')
  async fails() {
    await readPort(this.dataSource);
    throw new NotFoundException('nothing here');
  }

  /** The app's own Server-Timing entry is kept; PinDb's comes after it. */
  @Get('own-entry')
  async ownEntry(@Res({ passthrough: true }) response: { header(name: string, value: string): unknown }) {
    response.header('Server-Timing', 'app;dur=5');
    return { port: await readPort(this.dataSource) };
  }
}

/** The header for these counts (the default set only). */
const expected = (primary: number, replica: number) => `pindb;desc="primary ${primary}, replica ${replica}, retries 0, fallbacks 0"`;
const fromStats = (stats: RoutingStats) => expected(stats.sets.default?.primary ?? 0, stats.sets.default?.replica ?? 0);

async function timing(app: TestApp, path: string, init?: RequestInit): Promise<{ status: number; header: string | null; body: any }> {
  const response = await fetch(app.url + path, init);
  const text = await response.text();
  return { status: response.status, header: response.headers.get('server-timing'), body: text ? JSON.parse(text) : undefined };
}

describe.each(PLATFORMS)('Server-Timing on %s', (platform) => {
  const env = clusterApp(platform, () => ({
    pindb: { serverTiming: true },
    controllers: [ProbeController, TimingController],
    providers: [NotesService],
  }));
  let plain: TestApp;
  let disabled: TestApp;
  beforeAll(async () => {
    plain = await createTestApp({ platform, cluster: env.cluster, controllers: [ProbeController, TimingController], providers: [NotesService] });
    disabled = await createTestApp({
      platform,
      cluster: env.cluster,
      pindb: { enabled: false, serverTiming: true },
      controllers: [ProbeController, TimingController],
      providers: [NotesService],
    });
  });
  afterAll(async () => {
    await plain?.close();
    await disabled?.close();
  });

  it('is absent by default', async () => {
    const read = await timing(plain, '/probe/read');
    expect(read.status).toBe(200);
    expect(read.body.stats.sets.default.replica).toBe(1);
    expect(read.header).toBeNull();
    expect((await timing(plain, '/timing/fails')).header).toBeNull();
  });

  it("with serverTiming: true, carries the request's counts: a GET read on a replica", async () => {
    const read = await timing(env.app, '/probe/read');
    expect(read.status).toBe(200);
    expect(read.header).toBe(expected(0, 1));
  });

  it('counts every statement of a GET that writes, then reads on the primary', async () => {
    const read = await timing(env.app, '/probe/write-then-read');
    expect(read.status).toBe(200);
    expect(read.body.stats.sets.default.primary).toBeGreaterThanOrEqual(2); // the write's statements and the read
    expect(read.header).toBe(fromStats(read.body.stats));
  });

  it('goes out with the token on a POST', async () => {
    const response = await fetch(env.app.url + '/probe/read', { method: 'POST' });
    expect(response.status).toBe(201);
    expect(response.headers.get('x-pindb-token')).toBeTruthy();
    expect(response.headers.get('server-timing')).toBe(expected(1, 0));
  });

  it('is on error responses too', async () => {
    const failed = await timing(env.app, '/timing/fails');
    expect(failed.status).toBe(404);
    expect(failed.header).toBe(expected(0, 1));
  });

  it("keeps the app's own Server-Timing entries", async () => {
    const read = await timing(env.app, '/timing/own-entry');
    expect(read.status).toBe(200);
    expect(read.header).toBe(`app;dur=5, ${expected(0, 1)}`);
  });

  it('with enabled: false too: every statement counted on the primary', async () => {
    const read = await timing(disabled, '/probe/read');
    expect(read.status).toBe(200);
    expect(read.header).toBe(expected(1, 0));
    const failed = await timing(disabled, '/timing/fails');
    expect(failed.status).toBe(404);
    expect(failed.header).toBe(expected(1, 0));
  });
});
