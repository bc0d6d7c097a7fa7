import type { LookupAddress } from 'node:dns';
import { PinDbConfigError, PinDbModuleOptions } from '../../lib/index.js';
import { diffReplicas, discoverServers, dnsReplicas } from '../../lib/health/replica-discovery.js';
import { DEFAULT_DNS_INTERVAL_MS } from '../../lib/options/discover-options.js';
import { resolvePinDbOptions, type ResolvedSet } from '../../lib/options/resolve-options.js';
import { rejects } from '../support/rejected-options.js';

const server = (identity: string) => ({ identity });
const current = (...identities: string[]) => new Map(identities.map((identity) => [identity, `host ${identity}`]));

describe('diffReplicas: the change from the replicas discovered so far to a new list', () => {
  it.each<[string, Map<string, string>, string[], string[], { added: string[]; kept: string[]; removed: string[] }]>([
    ['the first list: all added', current(), ['a', 'b'], [], { added: ['a', 'b'], kept: [], removed: [] }],
    ['the same list: nothing changes', current('a', 'b'), ['a', 'b'], [], { added: [], kept: ['host a', 'host b'], removed: [] }],
    ['the same servers in another order: nothing changes', current('a', 'b'), ['b', 'a'], [], { added: [], kept: ['host a', 'host b'], removed: [] }],
    ['one more', current('a'), ['a', 'b'], [], { added: ['b'], kept: ['host a'], removed: [] }],
    ['one fewer', current('a', 'b'), ['b'], [], { added: [], kept: ['host b'], removed: ['host a'] }],
    ['one replaced by another', current('a', 'b'), ['a', 'c'], [], { added: ['c'], kept: ['host a'], removed: ['host b'] }],
    ['an empty list: all removed', current('a', 'b'), [], [], { added: [], kept: [], removed: ['host a', 'host b'] }],
    ['a server listed twice counts once', current(), ['a', 'a', 'b'], [], { added: ['a', 'b'], kept: [], removed: [] }],
    [
      'the primary or a configured replica is not discovered',
      current(),
      ['primary', 'a', 'configured'],
      ['primary', 'configured'],
      { added: ['a'], kept: [], removed: [] },
    ],
    ['a discovered server that is now configured leaves the discovered ones', current('a'), ['a'], ['a'], { added: [], kept: [], removed: ['host a'] }],
  ])('%s', (_, before, wanted, excluded, expected) => {
    const diff = diffReplicas(before, wanted.map(server), new Set(excluded));
    expect({ ...diff, added: diff.added.map((added) => added.identity) }).toEqual(expected);
  });
});

const v4 = (address: string): LookupAddress => ({ address, family: 4 });
const v6 = (address: string): LookupAddress => ({ address, family: 6 });

describe("dnsReplicas: a name's addresses as replicas", () => {
  it.each<[string, LookupAddress[], number | undefined, { host: string; port?: number }[]]>([
    ['IPv4 addresses, the port left to the primary', [v4('10.0.0.2'), v4('10.0.0.3')], undefined, [{ host: '10.0.0.2' }, { host: '10.0.0.3' }]],
    ['with a port', [v4('10.0.0.2')], 6432, [{ host: '10.0.0.2', port: 6432 }]],
    [
      'IPv6 only',
      [v6('fd00::2'), v6('fd00::3')],
      5432,
      [
        { host: 'fd00::2', port: 5432 },
        { host: 'fd00::3', port: 5432 },
      ],
    ],
    [
      'both families (localhost: 127.0.0.1 and ::1): IPv4 only, so no server counts twice',
      [v6('::1'), v4('127.0.0.1')],
      5433,
      [{ host: '127.0.0.1', port: 5433 }],
    ],
    ['an address listed twice counts once', [v4('10.0.0.2'), v4('10.0.0.2')], undefined, [{ host: '10.0.0.2' }]],
    ['no address', [], undefined, []],
  ])('%s', (_, addresses, port, expected) => {
    expect(dnsReplicas(addresses, port)).toEqual(expected);
  });
});

const set: ResolvedSet = resolvePinDbOptions({
  sets: { default: { primary: { host: 'db-primary', port: 5432, username: 'app', database: 'shop', applicationName: 'shop' } } },
} as PinDbModuleOptions).sets.get('default')!;

describe('discoverServers: one discovery, merged over the primary and checked', () => {
  it('by DNS: each address of the name (through the injected resolver), on the primary’s port unless the port is given', async () => {
    const asked: string[] = [];
    const lookup = async (name: string) => (asked.push(name), [v4('10.0.0.2'), v6('fd00::2'), v4('10.0.0.3')]);
    const servers = await discoverServers(set, { dns: 'replicas.internal', intervalMs: DEFAULT_DNS_INTERVAL_MS }, lookup);
    expect(asked).toEqual(['replicas.internal']);
    expect(servers.map((found) => found.label)).toEqual(['10.0.0.2:5432', '10.0.0.3:5432']);
    expect(servers[0].options).toEqual({ host: '10.0.0.2', port: 5432, username: 'app', database: 'shop', applicationName: 'shop' });
    const onPort = await discoverServers(set, { dns: 'replicas.internal', port: 6432, intervalMs: 1000 }, lookup);
    expect(onPort.map((found) => found.label)).toEqual(['10.0.0.2:6432', '10.0.0.3:6432']);
  });

  it('by DNS: a failed lookup rejects (the last list is kept)', async () => {
    const lookup = () => Promise.reject(Object.assign(new Error('getaddrinfo ENOTFOUND replicas.internal'), { code: 'ENOTFOUND' }));
    await expect(discoverServers(set, { dns: 'replicas.internal', intervalMs: 1000 }, lookup)).rejects.toThrow(/ENOTFOUND/);
  });

  it('by a function: each server merged over the primary, with its weight and zone beside it', async () => {
    const servers = await discoverServers(set, async () => [{ host: 'replica-1' }, { host: 'replica-2', port: 6432, weight: 2, zone: 'b' }]);
    expect(servers).toEqual([
      {
        identity: JSON.stringify(['replica-1', 5432, 'shop']),
        label: 'replica-1:5432',
        options: { host: 'replica-1', port: 5432, username: 'app', database: 'shop', applicationName: 'shop' },
        placement: {},
      },
      {
        identity: JSON.stringify(['replica-2', 6432, 'shop']),
        label: 'replica-2:6432',
        options: { host: 'replica-2', port: 6432, username: 'app', database: 'shop', applicationName: 'shop' },
        placement: { weight: 2, zone: 'b' },
      },
    ]);
  });

  it.each<[string, () => Promise<unknown>, RegExp]>([
    ['not an array', async () => ({ host: 'replica-1' }), /sets\.default\.discover\(\) must resolve to an array of servers.*got an object/],
    ['undefined', async () => undefined, /must resolve to an array of servers.*got undefined/],
    [
      'an entry that is not an object',
      async () => [{ host: 'replica-1' }, 'replica-2'],
      /sets\.default\.discover\(\)\[1\] is not a server \(got string replica-2\)/,
    ],
    ['an entry with a bad port', async () => [{ host: 'replica-1', port: 'x' }], /sets\.default\.discover\(\)\[0\]\.port must be a whole number/],
    ['an entry with an unknown field', async () => [{ hostname: 'replica-1' }], /Unknown option sets\.default\.discover\(\)\[0\]\.hostname/],
  ])('by a function that returns garbage (%s): rejects with a PinDbConfigError (the last list is kept)', async (_, discover, message) => {
    const found = discoverServers(set, discover as () => Promise<never[]>);
    await expect(found).rejects.toBeInstanceOf(PinDbConfigError);
    await expect(found).rejects.toThrow(message);
  });

  it('by a function that throws: rejects with its error', async () => {
    await expect(
      discoverServers(set, async () => {
        throw new Error('the cloud API is down');
      }),
    ).rejects.toThrow('the cloud API is down');
  });
});

describe('sets.<name>.discover at bootstrap', () => {
  const primary = { host: '127.0.0.1', port: 5432 };
  const withDiscover = (discover: unknown) => ({ sets: { default: { primary, discover } } });

  it('the DNS form gets the default interval; a function is kept as it is; none: no discovery', () => {
    const resolve = (discover: unknown) => resolvePinDbOptions(withDiscover(discover) as PinDbModuleOptions).sets.get('default')!.discover;
    expect(resolve({ dns: 'replicas.internal' })).toEqual({ dns: 'replicas.internal', intervalMs: 60_000 });
    expect(resolve({ dns: 'replicas.internal', port: 6432, intervalMs: 1000 })).toEqual({ dns: 'replicas.internal', port: 6432, intervalMs: 1000 });
    const discover = async () => [];
    expect(resolve(discover)).toBe(discover);
    expect(resolvePinDbOptions({ sets: { default: { primary } } }).sets.get('default')!.discover).toBeUndefined();
  });

  it.each<[string, unknown, RegExp]>([
    [
      'a string',
      'replicas.internal',
      /sets\.default\.discover must be \{ dns, port\?, intervalMs\? \} or a function.*e\.g\. sets\.default\.discover: \{ dns: /,
    ],
    ['an array', [{ host: 'replica-1' }], /sets\.default\.discover must be \{ dns, port\?, intervalMs\? \} or a function/],
    ['no dns', { port: 5432 }, /sets\.default\.discover\.dns must be a host name/],
    ['an empty dns', { dns: ' ' }, /sets\.default\.discover\.dns must be a host name/],
    ['a URL as dns', { dns: 'postgres://replicas.internal:5432' }, /no scheme, port or path: the port goes in sets\.default\.discover\.port/],
    ['a bad port', { dns: 'replicas.internal', port: 70000 }, /sets\.default\.discover\.port must be a whole number from 1 to 65535 \(got 70000\)/],
    [
      'an interval under the minimum',
      { dns: 'replicas.internal', intervalMs: 10 },
      /sets\.default\.discover\.intervalMs must be a number of milliseconds ≥ 1000 \(got 10\)/,
    ],
    ['an unknown key', { dns: 'replicas.internal', ttl: 5 }, /Unknown option sets\.default\.discover\.ttl: discover by DNS has dns, port, intervalMs/],
  ])('refuses %s with a PinDbConfigError naming the fix', (_, discover, message) => {
    rejects(withDiscover(discover), message);
  });
});
