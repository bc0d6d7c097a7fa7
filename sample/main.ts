// npm start: a small shop on nestjs-pindb, over a primary and two streaming replicas on loopback.
// Starts the cluster, then the shop on it. Each request logs where its queries went.
// Ctrl-C (or SIGTERM) closes the app, then stops the cluster.
//
// First, as docs/bullmq.md says: the modules imported below call BullModule.registerQueue when
// they are loaded, and this makes those queues PinDb's (jobs that carry their request's token).
import '../lib/bullmq/index.js';
import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { NestExpressApplication } from '@nestjs/platform-express';
import { SchedulerRegistry } from '@nestjs/schedule';
import { getDataSourceToken } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { startPgCluster } from '../lib/testing/index.js';
import { AppModule } from './app.module.js';
import { redisAnswers } from './jobs/redis-probe.js';
import { LOW_STOCK_CRON } from './reports/low-stock.report.js';
import { seed } from './seed.js';

async function bootstrap(): Promise<void> {
  // Asked before the app is built: BullMQ would otherwise retry a missing Redis forever.
  const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  const withJobs = await redisAnswers(redisUrl);
  const cluster = await startPgCluster({ replicas: 2 });
  console.log(`primary    ${cluster.primary.url}`);
  cluster.replicas.forEach((replica, i) => console.log(`replica ${i}  ${replica.url}`));
  if (!withJobs) console.log(`No Redis at ${redisUrl} (REDIS_URL): the shop starts without its jobs (no order confirmations).`);

  let app: NestExpressApplication | undefined;
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`${signal}: closing the app, then stopping the cluster`);
    // The app first: its connection pools close cleanly before their servers go away.
    await app?.close().catch((error) => console.error(error));
    await cluster.stop();
    process.exit(0);
  };
  process.once('SIGINT', () => void stop('SIGINT'));
  process.once('SIGTERM', () => void stop('SIGTERM'));

  try {
    const jobs = withJobs ? { connection: { url: redisUrl } } : undefined;
    // Route-mapping logs off: the request lines below are the point.
    app = await NestFactory.create<NestExpressApplication>(AppModule.forCluster(cluster, { jobs }), { logger: ['error', 'warn'] });
    await app.init(); // connects every DataSource; synchronize creates the tables
    await seed(app.get<DataSource>(getDataSourceToken()));
    // The seed went to the primary: wait until the replicas have replayed it before serving reads.
    await cluster.waitForReplay();
    const port = Number(process.env.PORT ?? 3000);
    await app.listen(port);
    // Only now, so that its first tick finds the tables and the seed on the replicas.
    app.get(SchedulerRegistry).getCronJob(LOW_STOCK_CRON).start();
    const graphql = `curl localhost:${port}/graphql -H 'content-type: application/json'`;
    console.log(`Shop on http://localhost:${port} (mode: ${process.env.PINDB_MODE === 'strict' ? 'strict' : 'greedy'}). Try:`);
    console.log(`  curl localhost:${port}/products`);
    console.log(`  curl -X POST localhost:${port}/orders -H 'x-user-id: 1' -H 'content-type: application/json' -d '{"items":[{"productId":2,"quantity":1}]}'`);
    console.log(`  curl localhost:${port}/me/orders -H 'x-user-id: 1'`);
    console.log(`  ${graphql} -d '{"query":"{ products { id name stock } }"}'`);
    console.log(`  ${graphql} -i -d '{"query":"mutation { restock(productId: 3, quantity: 10) { id name stock } }"}'   # set-cookie: pindb=…`);
    console.log(`  curl localhost:${port}/health          # Terminus: the primary and each replica`);
    console.log(`  curl -s localhost:${port}/metrics | grep pindb_   # Prometheus`);
    console.log(`Every 30 s the low-stock cron job logs a line${withJobs ? '; each order, its confirmation job' : ''}.`);
  } catch (error) {
    console.error(error);
    await app?.close().catch(() => undefined);
    await cluster.stop();
    process.exit(1);
  }
}

bootstrap().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
