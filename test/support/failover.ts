import type { INestApplicationContext } from '@nestjs/common';
import { PinDbHealthMonitor } from '../../lib/index.js';
import type { ReplicaHost } from '../../lib/health/replica-host.js';
import { PinDbRouter } from '../../lib/routing/pin-db.router.js';
import type { TestApp } from './test-app.js';

/**
 * Health checks fast enough for a test. The cooldown keeps its default (5 s), longer than any
 * test waits: a dead replica must come back at the first check it passes, not when that ends.
 */
export const FAST_HEALTH = { intervalMs: 400, connectTimeoutMs: 1000 };

export interface ProbeAnswer {
  status: number;
  port?: number;
  retries: number;
  fallbacks: number;
}

async function probeRead(app: TestApp): Promise<ProbeAnswer> {
  try {
    const { status, body } = await app.get('/probe/read');
    const stats = body?.stats?.sets?.default;
    return { status, port: body?.port, retries: stats?.retries ?? 0, fallbacks: stats?.fallbacks ?? 0 };
  } catch {
    return { status: 0, retries: 0, fallbacks: 0 }; // the request itself failed
  }
}

/** `count` GETs of /probe/read, all in flight at once; each answer says which server served it and whether it was retried. */
export function concurrentReads(app: TestApp, count: number): Promise<ProbeAnswer[]> {
  return Promise.all(Array.from({ length: count }, () => probeRead(app)));
}

/** `clients` loops of GET /probe/read, each sending its next request when the last one answered, until stopped. */
export function readLoad(app: TestApp, clients: number): { answers: readonly ProbeAnswer[]; stop: () => Promise<ProbeAnswer[]> } {
  let running = true;
  const answers: ProbeAnswer[] = [];
  const loops = Array.from({ length: clients }, async () => {
    while (running) answers.push(await probeRead(app));
  });
  return {
    /** The answers so far, for a spec to wait on (e.g. until both replicas have served). */
    answers,
    stop: async () => {
      running = false;
      await Promise.all(loops);
      return answers;
    },
  };
}

export function replicaHost(app: INestApplicationContext, index: number, set = 'default'): ReplicaHost {
  return app.get(PinDbRouter).forSet(set).hosts.hosts[index];
}

/** Counts the connections asked of a replica's pool from now on (reads; health checks have their own). */
export function countConnects(host: ReplicaHost): { count: () => number; restore: () => void } {
  const pool = host.connectionPool!;
  const connect = pool.connect;
  let count = 0;
  pool.connect = function (this: unknown, ...args: unknown[]) {
    count++;
    return (connect as (...a: unknown[]) => unknown).apply(this, args);
  } as typeof pool.connect;
  return { count: () => count, restore: () => void (pool.connect = connect) };
}

/** Resolves once the health monitor has completed `rounds` more rounds of checks of `set`. */
export async function healthRounds(app: INestApplicationContext, rounds: number, set = 'default'): Promise<void> {
  const monitor = app.get(PinDbHealthMonitor);
  const roundsOf = () => monitor.report().find((report) => report.set === set)!.rounds;
  const target = roundsOf() + rounds;
  while (roundsOf() < target) await new Promise((resolve) => setTimeout(resolve, 20));
}
