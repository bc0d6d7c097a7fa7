import { PinDbConfigError, PinDbModuleOptions } from '../../lib/index.js';
import { resolvePinDbOptions } from '../../lib/options/resolve-options.js';

const primary = { host: '127.0.0.1', port: 5432 };
const valid = (over: Record<string, unknown> = {}) => ({ sets: { default: { primary, replicas: [{ port: 5433 }] } }, ...over }) as PinDbModuleOptions;
const rejects = (options: unknown, message: RegExp) => {
  let error: unknown;
  try {
    resolvePinDbOptions(options as PinDbModuleOptions);
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(PinDbConfigError);
  expect((error as Error).message).toMatch(message);
};

describe('resolvePinDbOptions', () => {
  it('fills in the documented defaults', () => {
    const resolved = resolvePinDbOptions(valid());
    expect(resolved).toMatchObject({ mode: 'greedy', consistency: 'lsn', pinSeconds: 15, replicaSelection: 'round-robin', enabled: true, pinUnsafeMethods: ['default'] });
    expect(resolved.sets.get('default')!.replicas[0]).toEqual({ options: { host: '127.0.0.1', port: 5433 }, label: '127.0.0.1:5433' });
  });

  it('rejects no sets', () => {
    rejects({}, /at least one database set: sets: \{ default:/);
    rejects({ sets: {} }, /at least one database set/);
  });
  it('rejects a set with no primary', () => rejects({ sets: { analytics: { replicas: [] } } }, /sets\.analytics has no primary: give sets\.analytics\.primary as/));
  it('rejects a replica that is not an object', () =>
    rejects({ sets: { default: { primary, replicas: [{ port: 1 }, 'replica-2'] } } }, /sets\.default\.replicas\[1\] is not an object \(got "replica-2"\): give \{ host, port\? \}/));
  it('rejects replicas that are not a list', () => rejects({ sets: { default: { primary, replicas: { host: 'x' } } } }, /sets\.default\.replicas must be an array/));
  it.each([
    ['mode', 'lazy', /option mode must be 'greedy' or 'strict' \(got "lazy"\)/],
    ['consistency', 'eventual', /option consistency must be 'lsn' or 'time'/],
    ['replicaSelection', 'fastest', /option replicaSelection must be 'round-robin' or 'random' or 'least-busy'/],
    ['pinSeconds', 0, /pinSeconds must be a number of seconds > 0 \(got 0\)/],
    ['pinSeconds', -3, /pinSeconds must be a number of seconds > 0/],
    ['enabled', 'yes', /enabled must be true or false/],
    ['pinUnsafeMethods', ['analytics'], /pinUnsafeMethods names database set "analytics", which PinDbModule does not define: the sets are default/],
  ])('rejects %s = %p', (key, value, message) => rejects(valid({ [key]: value }), message));
  it('rejects unknown options and lists the known ones', () => rejects(valid({ pinSecs: 3 }), /Unknown PinDbModule option "pinSecs": the options are sets, typeorm, mode/));
  it('rejects unknown server fields with where they belong', () =>
    rejects({ sets: { default: { primary: { host: 'x', poolSize: 3 } } } }, /Unknown option sets\.default\.primary\.poolSize: .*other TypeORM options go in typeorm/));
  it('rejects a primary URL that is not a URL', () => rejects({ sets: { default: { primary: { url: 'not a url' } } } }, /sets\.default\.primary\.url is not a URL/));
  it('rejects TypeORM options that nestjs-pindb sets itself', () => {
    rejects(valid({ typeorm: { replication: {} } }), /typeorm\.replication is set by nestjs-pindb from the sets option/);
    rejects(valid({ typeorm: { type: 'mysql' } }), /routes PostgreSQL only/);
    rejects(valid({ typeorm: { host: 'x' } }), /typeorm\.host is set by nestjs-pindb/);
  });
});
