import { HostList } from '../../lib/health/host-list.js';
import { ReplicaHost } from '../../lib/health/replica-host.js';

const hosts = (n: number) => Array.from({ length: n }, (_, i) => new ReplicaHost(i, `127.0.0.1:${5433 + i}`));
const busyPool = (busy: number) => ({ totalCount: busy + 2, idleCount: 2 }) as never;

describe('HostList', () => {
  it('round-robin takes each host in turn', () => {
    const list = new HostList(hosts(3), 'round-robin');
    expect(Array.from({ length: 6 }, () => list.next()!.index)).toEqual([0, 1, 2, 0, 1, 2]);
  });

  it('skips hosts that are not eligible, and gives none when none is', () => {
    const list = new HostList(hosts(3), 'round-robin');
    const picks = Array.from({ length: 4 }, () => list.next((host) => host.index !== 1)!.index);
    expect(picks).not.toContain(1);
    expect(new Set(picks)).toEqual(new Set([0, 2]));
    expect(list.next(() => false)).toBeUndefined();
  });

  it('random reaches every host', () => {
    const list = new HostList(hosts(2), 'random');
    const seen = new Set(Array.from({ length: 200 }, () => list.next()!.index));
    expect(seen).toEqual(new Set([0, 1]));
  });

  it('least-busy takes the host with the fewest checked-out connections, and spreads ties', () => {
    const [a, b, c] = hosts(3);
    a.attach(busyPool(3));
    b.attach(busyPool(1));
    c.attach(busyPool(5));
    const list = new HostList([a, b, c], 'least-busy');
    expect(Array.from({ length: 3 }, () => list.next()!.index)).toEqual([1, 1, 1]);

    const idle = hosts(2);
    const tied = new HostList(idle, 'least-busy');
    expect(new Set(Array.from({ length: 4 }, () => tied.next()!.index))).toEqual(new Set([0, 1]));
  });
});
