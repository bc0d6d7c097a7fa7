import { ChildProcess, fork } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { PgCluster } from '../../lib/testing/index.js';
import type { ClsOpAnswer, ClsOps, ClsServerConfig } from './cls-ops.js';

const ROOT = join(import.meta.dirname, '../..');

/** The nestjs-cls app, running in its own Node process (see cls-server.ts for why). */
export interface ClsServer {
  url: string;
  /** Runs one of the app's ops (cls-ops.ts) in that process, outside any HTTP request; rejects with an Error of the name the app's error had. */
  op<K extends keyof ClsOps>(op: K, ...args: Parameters<ClsOps[K]>): Promise<Awaited<ReturnType<ClsOps[K]>>>;
  close(): Promise<void>;
}

/** Starts the app over the cluster's `default` set, as TypeScript through ts-node, as `npm start` runs the sample. */
export function startClsServer(cluster: PgCluster, config: Omit<ClsServerConfig, 'servers'>): Promise<ClsServer> {
  const full: ClsServerConfig = { ...config, servers: { primary: cluster.primary, replicas: cluster.replicas } };
  const child = fork(join(ROOT, 'test/support/cls-server.ts'), [JSON.stringify(full)], {
    cwd: ROOT,
    execArgv: [
      '--disable-warning=ExperimentalWarning',
      '--loader',
      'ts-node/esm/transpile-only',
      '--loader',
      pathToFileURL(join(ROOT, 'sample/ts-node-nest.hook.mjs')).href,
    ],
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return new Promise((resolve, reject) => {
    child.once('exit', (code, signal) => reject(new Error(`the nestjs-cls app's process exited (${signal ?? code}) before it was ready`)));
    child.on('message', function ready(message: { ready?: string; failed?: string }) {
      if (message.failed) reject(new Error(`the nestjs-cls app failed to start: ${message.failed}`));
      if (!message.ready) return;
      child.off('message', ready);
      resolve(connected(child, message.ready, exited));
    });
  });
}

function connected(child: ChildProcess, url: string, exited: Promise<void>): ClsServer {
  let nextId = 0;
  const pending = new Map<number, { resolve: (value: any) => void; reject: (error: Error) => void }>();
  child.on('message', (answer: ClsOpAnswer) => {
    const waiting = pending.get(answer.id);
    if (!waiting) return;
    pending.delete(answer.id);
    if ('error' in answer) waiting.reject(Object.assign(new Error(answer.error.message), { name: answer.error.name }));
    else waiting.resolve(answer.result);
  });
  child.once('exit', (code, signal) => {
    for (const { reject } of pending.values()) reject(new Error(`the nestjs-cls app's process exited (${signal ?? code})`));
    pending.clear();
  });
  return {
    url,
    op: (op, ...args) =>
      new Promise((resolve, reject) => {
        const id = ++nextId;
        pending.set(id, { resolve, reject });
        child.send({ id, op, args });
      }),
    close: async () => {
      if (child.connected) child.disconnect();
      await exited;
    },
  };
}
