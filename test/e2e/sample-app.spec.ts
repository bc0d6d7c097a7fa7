// First, as in sample/main.ts: the sample's modules call BullModule.registerQueue when they are loaded.
import '../../lib/bullmq/index.js';
import type { INestApplication } from '@nestjs/common';
import { getQueueToken } from '@nestjs/bullmq';
import { Test } from '@nestjs/testing';
import { getDataSourceToken } from '@nestjs/typeorm';
import { Job, Queue, QueueEvents } from 'bullmq';
import type { DataSource } from 'typeorm';
import type { PgCluster } from '../../lib/testing/index.js';
import { AppModule } from '../../sample/app.module.js';
import { ConfirmationSent, ORDER_CONFIRMATIONS, OrderConfirmation } from '../../sample/orders/order-confirmation.job.js';
import { LowStockReport } from '../../sample/reports/low-stock.report.js';
import { seed } from '../../sample/seed.js';
import { ShopLog } from '../../sample/shop-log.service.js';
import { describeWithFaults, pauseReplicas, resumeReplicas, testCluster } from '../support/test-cluster.js';
import { deleteKeys, TEST_REDIS_URL, testRedis, uniquePrefix } from '../support/test-redis.js';

/** The shop's log lines, kept for the tests to read instead of printed. */
class RecordedLog extends ShopLog {
  readonly lines: string[] = [];

  override line(text: string): void {
    this.lines.push(text);
  }
}

interface GraphQLReply {
  body: any;
  serverTiming: string | null;
  /** The `pindb` cookie as `name=value`; undefined when the response sets none. */
  cookie?: string;
}

/** Resolves once `condition()` holds, checking every 20 ms (the test's timeout bounds the wait). */
async function until(condition: () => boolean | Promise<boolean>): Promise<void> {
  while (!(await condition())) await new Promise((resolve) => setTimeout(resolve, 20));
}

/** The Server-Timing header of a response whose statements went `onPrimary` times to the primary, `onReplicas` to replicas. */
const timing = (onPrimary: number, onReplicas: number) => `pindb;desc="primary ${onPrimary}, replica ${onReplicas}, retries 0, fallbacks 0"`;

describeWithFaults('the sample shop (AppModule.forCluster): GraphQL, the order confirmation job, the cron job', () => {
  let cluster: PgCluster;
  let primary: string;
  let replicas: string[];
  let app: INestApplication;
  let url: string;
  let queue: Queue<OrderConfirmation>;
  let queueEvents: QueueEvents;
  const log = new RecordedLog();
  const prefix = uniquePrefix('sample-app').slice(0, -1);

  beforeAll(async () => {
    cluster = await testCluster({ replicas: 2 });
    primary = `${cluster.primary.host}:${cluster.primary.port}`;
    replicas = cluster.replicas.map(({ host, port }) => `${host}:${port}`);
    const moduleRef = await Test.createTestingModule({
      imports: [AppModule.forCluster(cluster, { jobs: { connection: { url: TEST_REDIS_URL }, prefix } })],
    })
      .overrideProvider(ShopLog)
      .useValue(log)
      .compile();
    app = moduleRef.createNestApplication({ logger: ['error'] });
    await app.init();
    await seed(app.get<DataSource>(getDataSourceToken()));
    await cluster.waitForReplay();
    await app.listen(0, '127.0.0.1');
    url = (await app.getUrl()).replace('[::1]', '127.0.0.1');
    queue = app.get<Queue<OrderConfirmation>>(getQueueToken(ORDER_CONFIRMATIONS));
    queueEvents = new QueueEvents(ORDER_CONFIRMATIONS, { connection: { url: TEST_REDIS_URL }, prefix });
    await queueEvents.waitUntilReady();
  });
  afterAll(async () => {
    await queueEvents?.close();
    await app?.close();
    await cluster?.stop();
    const redis = testRedis();
    await deleteKeys(redis, prefix);
    await redis.quit();
  });
  afterEach(() => resumeReplicas(cluster));

  async function graphql(query: string, headers: Record<string, string> = {}): Promise<GraphQLReply> {
    const response = await fetch(`${url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify({ query }),
    });
    const cookie = response.headers.getSetCookie().find((line) => line.startsWith('pindb='));
    return { body: await response.json(), serverTiming: response.headers.get('server-timing'), cookie: cookie?.split(';')[0] };
  }

  const stockOf = (reply: GraphQLReply, id: number) => reply.body.data.products.find((product: { id: number }) => product.id === id).stock;

  it('a GraphQL query is served by a replica (Server-Timing and the request log say so) and hands out no token', async () => {
    const reply = await graphql('{ products { id name stock } }');
    expect(reply.body.data.products.map((product: { name: string }) => product.name)).toEqual([
      'Espresso cup',
      'Moka pot',
      'Burr grinder',
      'Coffee beans, 1 kg',
      'Milk frother',
    ]);
    expect(reply.serverTiming).toBe(timing(0, 1));
    expect(reply.cookie).toBeUndefined();
    // The log line is written once the response is sent ('finish'), which the client may see first.
    await until(() => log.lines.some((line) => line.startsWith('POST /graphql 200 — ')));
    const line = log.lines.find((line) => line.startsWith('POST /graphql 200 — '))!;
    expect(replicas.map((replica) => `POST /graphql 200 — replica ${replica} ×1`)).toContain(line);
  });

  it('a GraphQL mutation runs on the primary and hands out the pindb cookie: with it, the next query reads the new stock while the replicas lag', async () => {
    await pauseReplicas(cluster);
    const restock = await graphql('mutation { restock(productId: 3, quantity: 10) { id stock } }');
    expect(restock.body).toEqual({ data: { restock: { id: 3, stock: 15 } } });
    expect(restock.serverTiming).toBe(timing(2, 0));
    expect(restock.cookie).toMatch(/^pindb=v1\./);
    await until(() => log.lines.includes(`POST /graphql 200 — primary ${primary} ×2`));

    const withCookie = await graphql('{ products { id stock } }', { cookie: restock.cookie! });
    expect(stockOf(withCookie, 3)).toBe(15);
    // No replica replays the restock within replayWaitMs: the read waited for one, then went to the primary.
    expect(withCookie.serverTiming?.slice(0, timing(1, 0).length)).toBe(timing(1, 0));
    expect(withCookie.serverTiming?.slice(timing(1, 0).length)).toMatch(/^, pindb-replay-wait;dur=\d+(\.\d+)?$/);
    const withoutCookie = await graphql('{ products { id stock } }');
    expect(stockOf(withoutCookie, 3)).toBe(5);
    expect(withoutCookie.serverTiming).toBe(timing(0, 1));
  });

  it("placing an order runs its confirmation job with the request's token: put back while the replicas lag, then it reads the order on a replica", async () => {
    await pauseReplicas(cluster);
    const response = await fetch(`${url}/orders`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-user-id': '1' },
      body: JSON.stringify({ items: [{ productId: 1, quantity: 2 }] }),
    });
    expect(response.status).toBe(201);
    const order = (await response.json()) as { id: number };
    // Added before the response was sent: the job is in the queue already.
    const job = (await queue.getJobs()).find((candidate) => candidate.data.orderId === order.id)!;
    expect(job).toBeDefined();
    // Put back at least once ('delayed'): it ran, and waits again, since no replica has the order.
    await until(async () => {
      const current = await Job.fromId(queue, job.id!);
      return current!.attemptsStarted >= 1 && (await current!.getState()) === 'delayed';
    });
    await resumeReplicas(cluster);

    const sent = (await job.waitUntilFinished(queueEvents)) as ConfirmationSent;
    expect(sent.orderId).toBe(order.id);
    expect(sent.to).toBe('ada@example.com');
    expect(sent.readFrom).toHaveLength(1);
    expect(replicas).toContain(sent.readFrom[0]);
    expect(sent.putBack).toBeGreaterThanOrEqual(1);
    expect(log.lines).toContain(
      `job ${ORDER_CONFIRMATIONS} #${job.id}: order ${order.id} confirmed to ada@example.com — replica ${sent.readFrom[0]} ×1, put back ×${sent.putBack}`,
    );
  });

  it('the cron method LowStockReport.run(), called directly, reads a replica in a context of its own', async () => {
    const before = log.lines.length;
    const names = await app.get(LowStockReport).run();
    expect(names).toEqual(['Milk frother (3)']);
    const line = log.lines.slice(before).find((text) => text.startsWith('cron low-stock: '));
    expect(replicas.map((replica) => `cron low-stock: Milk frother (3) — replica ${replica} ×1`)).toContain(line);
  });
});
