import { Controller, INestMicroservice } from '@nestjs/common';
import { ClientProxy, ClientProxyFactory, MessagePattern, Transport } from '@nestjs/microservices';
import { InjectDataSource } from '@nestjs/typeorm';
import { setTimeout as sleep } from 'node:timers/promises';
import { firstValueFrom } from 'rxjs';
import { DataSource } from 'typeorm';
import { Pin, RoutingService } from '../../lib/index.js';
import type { PgCluster } from '../../lib/testing/index.js';
import { reservePorts } from '../../lib/testing/free-ports.js';
import { NotesService, readPort } from '../support/probe.js';
import { compileTestModule } from '../support/test-app.js';
import { testCluster } from '../support/test-cluster.js';

/** Message handlers: no HTTP middleware runs for them, so the global interceptor opens their context. */
@Controller()
class MessagesController {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly notes: NotesService,
    private readonly routing: RoutingService,
  ) {}

  @MessagePattern('read')
  async read() {
    return { port: await readPort(this.dataSource), pinned: this.routing.isPinned(), queries: this.routing.stats().queries };
  }

  @MessagePattern('pinned')
  @Pin()
  async pinned() {
    return this.read();
  }

  @MessagePattern('write')
  async write(delayMs: number) {
    await this.notes.write('from a message');
    await sleep(delayMs);
    return this.read();
  }
}

describe('a microservice message gets its own context from the interceptor', () => {
  let cluster: PgCluster;
  let service: INestMicroservice;
  let client: ClientProxy;
  let replicaPorts: number[];
  const send = <T = any>(pattern: string, data: unknown = {}) => firstValueFrom(client.send<T>(pattern, data));

  beforeAll(async () => {
    cluster = await testCluster({ replicas: 2 });
    replicaPorts = cluster.replicas.map((r) => r.port);
    const moduleRef = await compileTestModule({ cluster, controllers: [MessagesController], providers: [NotesService] });
    // A free port picked first: Nest has no public way to ask a microservice its bound port.
    const [port] = await reservePorts('127.0.0.1', 1);
    service = moduleRef.createNestMicroservice({ transport: Transport.TCP, options: { host: '127.0.0.1', port } });
    service.useLogger(['error']);
    await service.listen();
    client = ClientProxyFactory.create({ transport: Transport.TCP, options: { host: '127.0.0.1', port } });
    await client.connect();
  });
  afterAll(async () => {
    client?.close();
    await service?.close();
    await cluster?.stop();
  });

  it('reads on a replica and counts its queries in its own context', async () => {
    const answer = await send('read');
    expect(replicaPorts).toContain(answer.port);
    expect(answer).toMatchObject({ pinned: false, queries: 1 });
  });

  it('applies @Pin on a message handler', async () => {
    expect(await send('pinned')).toMatchObject({ port: cluster.primary.port, pinned: true });
  });

  it('pins a message that wrote, and not the messages handled meanwhile', async () => {
    const writing = send('write', 100);
    await sleep(30);
    const reading = await send('read');
    expect(reading.pinned).toBe(false);
    expect(replicaPorts).toContain(reading.port);
    expect(await writing).toMatchObject({ port: cluster.primary.port, pinned: true });
  });
});
