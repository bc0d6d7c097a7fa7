import type { INestApplication } from '@nestjs/common';
import { ClsService } from 'nestjs-cls';
import { RoutingService } from '../../lib/index.js';
import { REQUEST_ID, type ClsAppServers } from './cls-app.js';
import { ClsGate, ClsJobs, ClsNotesService } from './cls-notes.service.js';
import type { StatementLog } from './statement-log.js';
import type { Platform } from './test-app.js';

/**
 * What a spec asks the app's process to do outside any HTTP request (a message arrives there in
 * no context at all): transactions inside routing.run(), ClsService.run(), neither, or a job method;
 * and the test's handles on the app (the gate, the statement log).
 */
export function clsOps(app: INestApplication, log: StatementLog) {
  const notes = app.get(ClsNotesService);
  const routing = app.get(RoutingService);
  const cls = app.get(ClsService);
  const gate = app.get(ClsGate);
  return {
    /** A transaction in a fresh pinning context, then a read after it and the context's token. */
    routingRun: (text: string) =>
      routing.run(async () => {
        const tx = await notes.create(text);
        return { tx, pinned: routing.isPinned(), after: await notes.where(), token: await routing.token() };
      }),
    /** As routingRun, with the set pinned first (what strict mode asks of a job that writes). */
    routingRunPinned: (text: string) =>
      routing.run(async () => {
        routing.pin('default');
        return { tx: await notes.create(text), pinned: routing.isPinned() };
      }),
    /** As routingRun, with the transaction inside usePrimary (strict mode's other way). */
    routingRunUsePrimary: (text: string) => routing.run(() => routing.usePrimary(() => notes.create(text))),
    /** A transaction in a nestjs-cls context with a value set, and no pinning context. */
    clsRun: (text: string) =>
      cls.run(async () => {
        cls.set(REQUEST_ID, 'a job');
        return { tx: await notes.create(text), pinned: routing.isPinned() };
      }),
    /** A transaction with neither context open. */
    noContext: (text: string) => notes.create(text),
    /** A job method with @PinningContext() over @Transactional(). */
    job: (text: string) => app.get(ClsJobs).nightly(text),
    gateWaiting: (key: string) => gate.isWaiting(key),
    openGate: (key: string) => gate.open(key),
    /** The statements TypeORM sent since the last clearStatements. */
    statements: () => [...log.statements],
    clearStatements: () => log.clear(),
  };
}

export type ClsOps = ReturnType<typeof clsOps>;

/** A request to the app's process, and its answer. */
export interface ClsOpRequest {
  id: number;
  op: keyof ClsOps;
  args: unknown[];
}

export type ClsOpAnswer = { id: number; result: unknown } | { id: number; error: { name: string; message: string } };

/** How the spec wants the app's process to build its app (plain data: it is passed as JSON). */
export interface ClsServerConfig {
  platform: Platform;
  servers: ClsAppServers;
  /** Import ClsModule before PinDbModule. */
  clsFirst: boolean;
  mode: 'greedy' | 'strict';
  secret: string;
  /** A second set, `analytics`, on this database of the same servers, with a transactional plugin of its own. */
  analyticsDatabase?: string;
}
