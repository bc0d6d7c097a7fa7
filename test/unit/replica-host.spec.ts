import { ReplicaHost } from '../../lib/health/replica-host.js';

const pool = { totalCount: 0, idleCount: 0 } as never;

describe('ReplicaHost', () => {
  it('is readable once it has a pool, and not while down, lagging or promoted', () => {
    const host = new ReplicaHost(0, 'h:1');
    expect(host.readable).toBe(false);
    host.attach(pool);
    expect(host.readable).toBe(true);
    host.lagging = true;
    expect(host.readable).toBe(false);
    host.lagging = false;
    host.promoted = true;
    expect(host.readable).toBe(false);
    host.promoted = false;
    host.markDown(new Error('refused'), 0);
    expect(host.readable).toBe(false);
  });

  it('a replica that failed only reads (its checks pass) comes back when its cooldown has ended, not at the next check', () => {
    const host = new ReplicaHost(0, 'h:1', { cooldownMs: 100, maxCooldownMs: 500 });
    host.attach(pool);
    expect(host.markDown(new Error('timeout exceeded when trying to connect'), 0)).toBe(true);
    expect(host.downUntilMs).toBe(100);
    expect(host.checkPassed(50)).toBe(false);
    expect(host.readable).toBe(false);
    expect(host.checkPassed(100)).toBe(true);
    expect(host.readable).toBe(true);
    expect(host.lastError).toBeUndefined();
  });

  it('a dead replica (a check failed too) comes back at the first check it passes, whatever the cooldown', () => {
    const host = new ReplicaHost(0, 'h:1', { cooldownMs: 5000, maxCooldownMs: 60_000 });
    host.attach(pool);
    host.markDown(new Error('ECONNREFUSED'), 0);
    expect(host.checkFailed(new Error('ECONNREFUSED'), 1000)).toBe(false);
    expect(host.checkPassed(2000)).toBe(true);
    expect(host.readable).toBe(true);
  });

  it('failures while down (the reads that were in flight, failed checks) are one outage: the cooldown does not grow', () => {
    const host = new ReplicaHost(0, 'h:1', { cooldownMs: 100, maxCooldownMs: 500 });
    host.attach(pool);
    expect(host.markDown(new Error('refused'), 0)).toBe(true);
    for (let i = 0; i < 20; i++) expect(host.markDown(new Error('Connection terminated'), 10 + i)).toBe(false);
    host.checkFailed(new Error('refused'), 200);
    expect(host.downUntilMs).toBe(100);
    expect(host.lastError).toBe('refused');
  });

  it('a replica that keeps failing soon after it came back gets a cooldown doubled each time, up to the cap; one that stayed up long starts over', () => {
    const host = new ReplicaHost(0, 'h:1', { cooldownMs: 100, maxCooldownMs: 500 });
    host.attach(pool);
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
