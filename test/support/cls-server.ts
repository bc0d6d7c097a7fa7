/**
 * The app of the nestjs-cls specs, in a process of its own (started by cls-child.ts).
 *
 * nestjs-cls and @nestjs-cls/* are CommonJS and require() @nestjs/common, which is ESM only from
 * Nest 12 on. Node (20.19 and later) loads that with require(esm), so an app runs as is; Jest's
 * module loader supports require(esm) only on Node 24.9 and later, so inside a Jest worker on an
 * older Node the import fails. Here, in plain Node, it is the app as a user runs it.
 *
 * argv[2] is a ClsServerConfig as JSON. Once listening, the process sends `{ ready: url }` on its
 * IPC channel; then it answers each ClsOpRequest, and exits when the channel closes.
 */
import { TypeOrmModule } from '@nestjs/typeorm';
import { ANALYTICS, ClsAnalyticsController, ClsAnalyticsService, Visit } from './cls-analytics.js';
import { createClsApp } from './cls-app.js';
import { ClsGate, ClsJobs, ClsNotesService } from './cls-notes.service.js';
import { ClsOpAnswer, ClsOpRequest, clsOps, ClsServerConfig } from './cls-ops.js';
import { ClsProbeController } from './cls-probe.controller.js';
import { ClsStrictController } from './cls-strict.controller.js';
import { Note } from './entities.js';
import { StatementLog } from './statement-log.js';

const send = (message: unknown) => new Promise<void>((resolve) => process.send!(message, () => resolve()));

/** Closed once the app is up; before that, the process just exits (the spec is gone, or gave up waiting). */
let closeApp: (() => Promise<void>) | undefined;
process.once('disconnect', () => {
  if (!closeApp) process.exit(1);
  void closeApp().finally(() => process.exit(0));
});

async function main(): Promise<void> {
  const config = JSON.parse(process.argv[2]) as ClsServerConfig;
  const log = new StatementLog();
  const { primary, replicas } = config.servers;
  const analytics = config.analyticsDatabase;
  const analyticsPrimary = { host: primary.host, port: primary.port, username: primary.username, password: primary.password, database: analytics };
  const { app, url } = await createClsApp({
    platform: config.platform,
    servers: config.servers,
    clsFirst: config.clsFirst,
    pindb: {
      mode: config.mode,
      cookie: { secret: config.secret },
      typeorm: { entities: [Note], synchronize: true, retryAttempts: 0, logger: log },
      ...(analytics && {
        sets: {
          default: { primary, replicas },
          [ANALYTICS]: { primary: analyticsPrimary, replicas: replicas.map(({ port }) => ({ port })), typeorm: { entities: [Visit] } },
        },
      }),
    },
    clsSets: analytics ? [ANALYTICS] : [],
    imports: analytics ? [TypeOrmModule.forFeature([Visit], ANALYTICS)] : [],
    controllers: [ClsProbeController, ...(config.mode === 'strict' ? [ClsStrictController] : []), ...(analytics ? [ClsAnalyticsController] : [])],
    providers: [ClsNotesService, ClsGate, ClsJobs, ...(analytics ? [ClsAnalyticsService] : [])],
  });
  const ops = clsOps(app, log);
  process.on('message', async ({ id, op, args }: ClsOpRequest) => {
    let answer: ClsOpAnswer;
    try {
      answer = { id, result: await (ops[op] as (...args: unknown[]) => unknown)(...args) };
    } catch (error) {
      const { name, message } = error as Error;
      answer = { id, error: { name, message } };
    }
    await send(answer);
  });
  closeApp = () => app.close();
  await send({ ready: url });
}

main().catch(async (error: Error) => {
  await send({ failed: error.stack ?? String(error) });
  process.exit(1);
});
