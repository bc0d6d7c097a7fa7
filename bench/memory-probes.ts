/**
 * The worker side of bench/memory.ts's first part: what PinDb keeps in memory per open context and
 * per token. Each probe opens N of one thing and holds it (a pending promise keeps every context
 * open), measures the heap after full collections before and after, and divides by N. The strings
 * a probe needs (tokens, keys) are made inside the measured window and not kept by the probe, so
 * what the heap still holds afterwards is what PinDb (or the store) retains.
 */
import { getRepositoryToken } from '@nestjs/typeorm';
import { setImmediate as tick } from 'node:timers/promises';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { Repository } from 'typeorm';
import { MemoryPinStore, RoutingService } from '../lib/index.js';
import { PinDbContext } from '../lib/routing/pin-db.context.js';
import { PinDbRouter } from '../lib/routing/pin-db.router.js';
import { BenchItem, nthId } from './bench-item.js';

export type ProbeKind = 'promises' | 'contexts' | 'contexts-read' | 'verified-tokens' | 'store-tokens';

export const PROBES: Record<ProbeKind, string> = {
  promises: 'baseline: a pending async function, no context',
  contexts: 'routing.run() context, one routing decision, pending',
  'contexts-read': 'routing.run() context after one replica read, pending',
  'verified-tokens': 'routing.run() context with a signed token, verified, pending',
  'store-tokens': 'a signed token in a MemoryPinStore (key, token, source)',
};

export interface ProbeResult {
  kind: ProbeKind;
  n: number;
  /** heapUsed after full collections, before and while the N are held. */
  before: number;
  after: number;
  perItem: number;
  /** Characters of one signed token, for the token probes. */
  tokenLength?: number;
}

/** global.gc under --expose-gc; else the same function, exposed now through V8's flag. */
export function gcFunction(): () => void {
  if (typeof globalThis.gc === 'function') return () => globalThis.gc!();
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

const gc = gcFunction();

/** heapUsed once nothing more can be collected: full collections with turns of the event loop between. */
async function settledHeap(): Promise<number> {
  for (let i = 0; i < 4; i++) {
    gc();
    await tick();
  }
  return process.memoryUsage().heapUsed;
}

export interface ProbeApp {
  routing: RoutingService;
  router: PinDbRouter;
  items: Repository<BenchItem>;
}

export function probeApp(app: { get<T>(token: unknown): T }): ProbeApp {
  return {
    routing: app.get<RoutingService>(RoutingService),
    router: app.get<PinDbRouter>(PinDbRouter),
    items: app.get<Repository<BenchItem>>(getRepositoryToken(BenchItem)),
  };
}

/** A token as PinDb hands one out after a write: the default set at a WAL position, for a minute. */
function signedToken({ router }: ProbeApp, i: number): string {
  return router.tokens.sign(new Map([['default', { lsn: BigInt(0x3000000 + i * 4096), expiresAt: Date.now() + 60_000 }]]));
}

/** Opens `n` of `kind`; resolves once all are open, with what releases them. */
async function open(app: ProbeApp, kind: ProbeKind, n: number, held: unknown[]): Promise<() => Promise<void>> {
  const resolvers: (() => void)[] = [];
  const pending = () => new Promise<void>((resolve) => resolvers.push(resolve));
  const { routing } = app;
  if (kind === 'store-tokens') {
    const store = new MemoryPinStore({ maxEntries: n, maxEntriesPerSource: n });
    for (let i = 0; i < n; i++) await store.set(`user:${100_000 + i}`, signedToken(app, i), 600, `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`);
    held.push(store);
    if (store.size !== n) throw new Error(`the store holds ${store.size} tokens, not ${n}`);
    return async () => undefined;
  }
  let withToken = 0;
  if (kind === 'contexts-read') {
    // As many at a time as the replica pool has connections: more would wait for one past its timeout.
    for (let i = 0; i < n; i += 10) {
      const reads: Promise<void>[] = [];
      for (let j = i; j < Math.min(n, i + 10); j++) {
        reads.push(
          new Promise<void>((readDone, failed) => {
            held.push(
              routing.run(async () => {
                await app.items.findOneBy({ id: nthId(j) }).catch(failed);
                readDone();
                await pending();
              }),
            );
          }),
        );
      }
      await Promise.all(reads);
    }
  } else {
    for (let i = 0; i < n; i++) {
      const body = async () => {
        if (kind !== 'promises') {
          routing.target();
          if (PinDbContext.current()!.context.token.size > 0) withToken++;
        }
        await pending();
      };
      held.push(kind === 'promises' ? body() : routing.run(body, kind === 'verified-tokens' ? { token: signedToken(app, i) } : {}));
    }
  }
  if (kind === 'verified-tokens' && withToken !== n) throw new Error(`${withToken} of ${n} contexts verified their token`);
  if (resolvers.length !== n) throw new Error(`${resolvers.length} of ${n} contexts are pending`);
  return async () => {
    for (const resolve of resolvers) resolve();
    await Promise.all(held);
  };
}

export async function probe(app: ProbeApp, kind: ProbeKind, n: number): Promise<ProbeResult> {
  const held: unknown[] = [];
  const before = await settledHeap();
  const release = await open(app, kind, n, held);
  const after = await settledHeap();
  await release();
  held.length = 0;
  const result: ProbeResult = { kind, n, before, after, perItem: (after - before) / n };
  if (kind === 'verified-tokens' || kind === 'store-tokens') result.tokenLength = signedToken(app, 0).length;
  return result;
}
