import { Controller, Get, Post } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { setTimeout as sleep } from 'node:timers/promises';
import { DataSource } from 'typeorm';
import { RoutingService } from '../../lib/index.js';
import { NotesService, readPort } from '../support/probe.js';
import { clusterApp, PLATFORMS } from '../support/test-app.js';

@Controller('mixed')
class MixedController {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly notes: NotesService,
    private readonly routing: RoutingService,
  ) {}

  /** Three reads with pauses between them, so that requests interleave. */
  @Get(':n')
  async read() {
    const ports = [];
    for (let i = 0; i < 3; i++) {
      ports.push(await readPort(this.dataSource));
      await sleep(Math.random() * 5);
    }
    return { ports, pinned: this.routing.isPinned(), stats: this.routing.stats() };
  }

  /** A GET that writes half-way: pinned from there on, and only this request. */
  @Get(':n/write')
  async writeThenRead() {
    const before = await readPort(this.dataSource);
    await sleep(Math.random() * 5);
    await this.notes.write('concurrent');
    const after = await readPort(this.dataSource);
    return { ports: [before, after], pinned: this.routing.isPinned(), stats: this.routing.stats() };
  }

  @Post(':n')
  async post() {
    return this.read();
  }
}

describe.each(PLATFORMS)('200 interleaved requests (%s)', (platform) => {
  const env = clusterApp(platform, () => ({ controllers: [MixedController], providers: [NotesService] }));

  it('no request sees another’s pins or counters', async () => {
    const primary = env.cluster.primary.port;
    const replicas = env.cluster.replicas.map((r) => r.port);
    const kinds = Array.from({ length: 200 }, (_, n) => (['read', 'write', 'post', 'read'] as const)[n % 4]);
    const responses = await Promise.all(
      kinds.map(async (kind, n) => {
        const response = await fetch(`${env.app.url}/mixed/${n}${kind === 'write' ? '/write' : ''}`, { method: kind === 'post' ? 'POST' : 'GET' });
        return { kind, status: response.status, body: (await response.json()) as any };
      }),
    );
    for (const { kind, status, body } of responses) {
      expect(status).toBeLessThan(300);
      const { default: set } = body.stats.sets;
      if (kind === 'read') {
        expect(body.pinned).toBe(false);
        expect(body.ports.every((port: number) => replicas.includes(port))).toBe(true);
        expect(body.stats.queries).toBe(3);
        expect(set).toMatchObject({ primary: 0, replica: 3 });
      } else if (kind === 'post') {
        expect(body.pinned).toBe(true);
        expect(body.ports).toEqual([primary, primary, primary]);
        expect(set).toMatchObject({ primary: 3, replica: 0 });
      } else {
        expect(body.pinned).toBe(true);
        expect(replicas).toContain(body.ports[0]);
        expect(body.ports[1]).toBe(primary);
        // One read on a replica; the save's transaction and its statements, and the last read, on the primary.
        expect(set.replica).toBe(1);
        expect(set.primary).toBeGreaterThanOrEqual(3);
      }
    }
  });
});
