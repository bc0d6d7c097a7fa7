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

  it('a cooldown that starts at cooldownMs and doubles with each failure in a row, up to the cap; a passing check resets it', () => {
    const host = new ReplicaHost(0, 'h:1', { cooldownMs: 100, maxCooldownMs: 500 });
    host.attach(pool);
    expect(host.markDown(new Error('refused'), 0)).toBe(true);
    expect(host.downUntilMs).toBe(100);
    expect(host.markDown(new Error('refused'), 1000)).toBe(false);
    expect(host.downUntilMs).toBe(1200);
    host.markDown(new Error('refused'), 2000);
    expect(host.downUntilMs).toBe(2400);
    host.markDown(new Error('refused'), 3000);
    expect(host.downUntilMs).toBe(3500);
    expect(host.lastError).toBe('refused');
    expect(host.markUp()).toBe(true);
    expect(host.readable).toBe(true);
    expect(host.downUntilMs).toBeUndefined();
    host.markDown(new Error('again'), 10_000);
    expect(host.downUntilMs).toBe(10_100);
  });

  it('failures during a cooldown (the reads in flight when the host died) do not lengthen it: one outage, one failure', () => {
    const host = new ReplicaHost(0, 'h:1', { cooldownMs: 100, maxCooldownMs: 500 });
    host.attach(pool);
    expect(host.markDown(new Error('refused'), 0)).toBe(true);
    for (let i = 0; i < 20; i++) expect(host.markDown(new Error('Connection terminated'), 10)).toBe(false);
    expect(host.downUntilMs).toBe(100);
    expect(host.lastError).toBe('Connection terminated');
    host.markDown(new Error('refused'), 100); // the half-open probe fails: now it doubles
    expect(host.downUntilMs).toBe(300);
  });

  it('a down host is due for a check (the half-open probe) only once its cooldown has ended', () => {
    const host = new ReplicaHost(0, 'h:1', { cooldownMs: 100, maxCooldownMs: 500 });
    expect(host.checkDue(0)).toBe(true);
    host.markDown(new Error('refused'), 0);
    expect(host.checkDue(99)).toBe(false);
    expect(host.checkDue(100)).toBe(true);
  });
});
