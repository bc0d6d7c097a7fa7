import type { PoolClient } from 'pg';
import { ReplicaHost, ReplicaReading } from '../../lib/health/replica-host.js';

const pool = { totalCount: 0, idleCount: 0 } as never;
const reading = (inRecovery: boolean): ReplicaReading => ({ inRecovery, lagSeconds: 0, at: 0 });

/** A host with a pool that a health check saw in recovery: readable. */
function checkedHost(cooldown?: { cooldownMs: number; maxCooldownMs: number }): ReplicaHost {
  const host = new ReplicaHost(0, 'h:1', cooldown);
  host.attach(pool);
  host.reading = reading(true);
  return host;
}

describe('ReplicaHost', () => {
  it.each([
    { state: 'no pool yet', pool: false, reading: reading(true), down: false, lagging: false, readable: false },
    { state: 'a pool, no health check yet (it may be anything, a primary too)', pool: true, reading: undefined, down: false, lagging: false, readable: false },
    { state: 'a check saw it in recovery', pool: true, reading: reading(true), down: false, lagging: false, readable: true },
    {
      state: 'a check saw it out of recovery (promoted, or never a replica)',
      pool: true,
      reading: reading(false),
      down: false,
      lagging: false,
      readable: false,
    },
    { state: 'in recovery but lagging', pool: true, reading: reading(true), down: false, lagging: true, readable: false },
    { state: 'in recovery but down', pool: true, reading: reading(true), down: true, lagging: false, readable: false },
  ])('$state: readable $readable', (state) => {
    const host = new ReplicaHost(0, 'h:1');
    if (state.pool) host.attach(pool);
    host.reading = state.reading;
    host.lagging = state.lagging;
    if (state.down) host.markDown(new Error('refused'), 0);
    expect(host.readable).toBe(state.readable);
  });

  it('promoted is what the last reading says: unknown (false) before one, true out of recovery, false back in it', () => {
    const host = new ReplicaHost(0, 'h:1');
    expect(host.promoted).toBe(false);
    host.reading = reading(false);
    expect(host.promoted).toBe(true);
    host.reading = reading(true);
    expect(host.promoted).toBe(false);
  });

  it('cuts the connections checked out of its pool, and forgets those checked back in', () => {
    const host = new ReplicaHost(0, 'h:1');
    const destroyed: string[] = [];
    const client = (name: string) => ({ connection: { stream: { destroy: () => destroyed.push(name) } } }) as unknown as PoolClient;
    const [a, b, c] = [client('a'), client('b'), client('c')];
    host.connections.checkOut(a);
    host.connections.checkOut(b);
    host.connections.checkOut(c);
    host.connections.checkIn(b);
    expect(host.connections.cutAll()).toBe(2);
    expect(destroyed).toEqual(['a', 'c']);
    expect(host.connections.size).toBe(0);
    expect(host.connections.cutAll()).toBe(0);
  });

  it('a replica that failed only reads (its checks pass) comes back when its cooldown has ended, not at the next check', () => {
    const host = checkedHost({ cooldownMs: 100, maxCooldownMs: 500 });
    expect(host.markDown(new Error('timeout exceeded when trying to connect'), 0)).toBe(true);
    expect(host.downUntilMs).toBe(100);
    expect(host.checkPassed(50)).toBe(false);
    expect(host.readable).toBe(false);
    expect(host.checkPassed(100)).toBe(true);
    expect(host.readable).toBe(true);
    expect(host.lastError).toBeUndefined();
  });

  it('a dead replica (a check failed too) comes back at the first check it passes, whatever the cooldown', () => {
    const host = checkedHost({ cooldownMs: 5000, maxCooldownMs: 60_000 });
    host.markDown(new Error('ECONNREFUSED'), 0);
    expect(host.checkFailed(new Error('ECONNREFUSED'), 1000)).toBe(false);
    expect(host.checkPassed(2000)).toBe(true);
    expect(host.readable).toBe(true);
  });

  it('failures while down (the reads that were in flight, failed checks) are one outage: the cooldown does not grow', () => {
    const host = checkedHost({ cooldownMs: 100, maxCooldownMs: 500 });
    expect(host.markDown(new Error('refused'), 0)).toBe(true);
    for (let i = 0; i < 20; i++) expect(host.markDown(new Error('Connection terminated'), 10 + i)).toBe(false);
    host.checkFailed(new Error('refused'), 200);
    expect(host.downUntilMs).toBe(100);
    expect(host.lastError).toBe('refused');
  });

  it('a replica that keeps failing soon after it came back gets a cooldown doubled each time, up to the cap; one that stayed up long starts over', () => {
    const host = checkedHost({ cooldownMs: 100, maxCooldownMs: 500 });
    const outage = (at: number) => {
      host.markDown(new Error('refused'), at);
      const until = host.downUntilMs! - at;
      host.checkPassed(host.downUntilMs!);
      return until;
    };
    expect([outage(0), outage(200), outage(500), outage(1000), outage(1600)]).toEqual([100, 200, 400, 500, 500]);
    // Up for longer than maxCooldownMs since it last came back: a new outage is a first one.
    expect(outage(1600 + 500 + 500)).toBe(100);
  });
});
