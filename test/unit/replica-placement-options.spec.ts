import { PinDbModuleOptions } from '../../lib/index.js';
import { resolvePinDbOptions } from '../../lib/options/resolve-options.js';
import { rejects } from '../support/rejected-options.js';

const primary = { host: '127.0.0.1', port: 5432 };
const withReplica = (replica: Record<string, unknown>, over: Record<string, unknown> = {}) =>
  ({ sets: { default: { primary, replicas: [{ port: 5433 }, replica] } }, ...over }) as PinDbModuleOptions;
describe('replica weight and zone options', () => {
  it('keeps weight and zone beside the replica, out of the options its pool connects with', () => {
    const { sets, zone } = resolvePinDbOptions(withReplica({ port: 5434, weight: 3, zone: 'eu-west-1a' }, { zone: 'eu-west-1a' }));
    expect(zone).toBe('eu-west-1a');
    expect(sets.get('default')!.replicas).toEqual([
      { options: { host: '127.0.0.1', port: 5433 }, label: '127.0.0.1:5433' },
      { options: { host: '127.0.0.1', port: 5434 }, label: '127.0.0.1:5434', weight: 3, zone: 'eu-west-1a' },
    ]);
  });

  it.each([0, 0.5, 1, 100])('accepts weight %p', (weight) => {
    expect(resolvePinDbOptions(withReplica({ port: 5434, weight })).sets.get('default')!.replicas[1].weight).toBe(weight);
  });

  it("accepts replicaSelection 'fastest', and no zone by default", () => {
    const resolved = resolvePinDbOptions(withReplica({ port: 5434 }, { replicaSelection: 'fastest' }));
    expect(resolved.replicaSelection).toBe('fastest');
    expect(resolved.zone).toBeUndefined();
  });

  it.each<[string, unknown, RegExp]>([
    [
      'a weight on the primary',
      { sets: { default: { primary: { ...primary, weight: 2 }, replicas: [{ port: 5433 }] } } },
      /sets\.default\.primary\.weight is a replica option.*replicas: \[\{ host: 'replica-1', weight: 2 \}\]/,
    ],
    [
      'a zone on the primary',
      { sets: { default: { primary: { ...primary, zone: 'a' } } } },
      /sets\.default\.primary\.zone is a replica option.*Remove it, or set it on a replica/,
    ],
    [
      'a negative weight',
      withReplica({ port: 5434, weight: -1 }),
      /sets\.default\.replicas\[1\]\.weight must be a finite number ≥ 0 \(got number -1\).*weight: 3 beside weight: 1/,
    ],
    ['a weight that is not a number', withReplica({ port: 5434, weight: '3' }), /replicas\[1\]\.weight must be a finite number ≥ 0 \(got "3"\)/],
    ['an infinite weight', withReplica({ port: 5434, weight: Infinity }), /replicas\[1\]\.weight must be a finite number/],
    ['a NaN weight', withReplica({ port: 5434, weight: NaN }), /replicas\[1\]\.weight must be a finite number/],
    ['an empty zone', withReplica({ port: 5434, zone: ' ' }), /replicas\[1\]\.zone must be a non-empty string \(got " "\), e\.g\. zone: 'eu-west-1a'/],
    ['a zone that is not a string', withReplica({ port: 5434, zone: 1 }), /replicas\[1\]\.zone must be a non-empty string \(got number 1\)/],
    ['an empty module zone', withReplica({ port: 5434 }, { zone: '' }), /PinDbModule option zone must be a non-empty string .*leave it out to ignore zones/],
    [
      'a module zone that is not a string',
      withReplica({ port: 5434 }, { zone: ['a'] }),
      /PinDbModule option zone must be a non-empty string naming this instance's zone.*\(got \["a"\]\)/,
    ],
    [
      'an unknown replica field',
      withReplica({ port: 5434, wieght: 2 }),
      /Unknown option sets\.default\.replicas\[1\]\.wieght: a replica has url, .*weight, zone/,
    ],
    [
      'an unknown selection',
      withReplica({ port: 5434 }, { replicaSelection: 'fast' }),
      /replicaSelection must be 'round-robin' or 'random' or 'least-busy' or 'fastest' \(got "fast"\)/,
    ],
  ])('refuses %s at bootstrap, saying how to fix it', (_, options, message) => rejects(options, message));
});
