import { PinDbConfigError, PinDbModuleOptions } from '../../lib/index.js';
import { resolvePinDbOptions } from '../../lib/options/resolve-options.js';
import { awaitReplicationArgs } from '../../lib/routing/await-replication.js';

const valid = (replayWaitMs: unknown) => ({ sets: { default: { primary: { host: '127.0.0.1', port: 5432 } } }, replayWaitMs }) as PinDbModuleOptions;

describe('the replayWaitMs option', () => {
  it('has a default, and takes 0 (no wait) and other numbers of milliseconds', () => {
    expect(resolvePinDbOptions(valid(undefined)).replayWaitMs).toBe(new PinDbModuleOptions().replayWaitMs);
    expect(resolvePinDbOptions(valid(0)).replayWaitMs).toBe(0);
    expect(resolvePinDbOptions(valid(50)).replayWaitMs).toBe(50);
    expect(resolvePinDbOptions(valid(12.5)).replayWaitMs).toBe(12.5);
    expect(resolvePinDbOptions(valid(60_000)).replayWaitMs).toBe(60_000);
  });

  it.each([[-1], [60_001], [Number.NaN], [Number.POSITIVE_INFINITY], ['200'], [null], [true]])(
    'rejects %p with a PinDbConfigError that says what to give',
    (value) => {
      expect(() => resolvePinDbOptions(valid(value))).toThrow(PinDbConfigError);
      expect(() => resolvePinDbOptions(valid(value))).toThrow(
        /replayWaitMs must be a number of milliseconds from 0 \(no wait\) to 60000 \(got .*\), e\.g\. replayWaitMs: \d+/,
      );
    },
  );
});

describe('routing.awaitReplication() arguments', () => {
  it('default to the default set; timeoutMs is required', () => {
    expect(awaitReplicationArgs({ timeoutMs: 500 })).toEqual({ set: 'default', timeoutMs: 500 });
    expect(awaitReplicationArgs({ set: 'analytics', timeoutMs: 0 })).toEqual({ set: 'analytics', timeoutMs: 0 });
  });

  it.each([
    [undefined, /takes an object \{ set\?, timeoutMs \} \(got undefined\), e\.g\. routing\.awaitReplication\(\{ timeoutMs: 2000 \}\)/],
    [2000, /takes an object/],
    [{}, /needs timeoutMs, a number of milliseconds from 0 to 2147483647 \(got undefined\)/],
    [{ timeoutMs: -1 }, /got -1/],
    [{ timeoutMs: Number.NaN }, /got NaN/],
    [{ timeoutMs: '100' }, /got 100/],
    [{ timeoutMs: 2 ** 31 }, /got 2147483648/],
    [{ timeoutMs: 100, set: 3 }, /set must be a set name \(got 3\)/],
    [{ timeout: 100 }, /Unknown option timeout of routing\.awaitReplication\(\): it takes set and timeoutMs/],
  ])('refuse %p with a PinDbConfigError', (options, message) => {
    expect(() => awaitReplicationArgs(options)).toThrow(PinDbConfigError);
    expect(() => awaitReplicationArgs(options)).toThrow(message);
  });
});
