import { tokenLifetimeSeconds } from '../../lib/tokens/token-lifetime.js';

const health = { maxLagSeconds: 30, intervalMs: 1000, connectTimeoutMs: 2000 };

describe('tokenLifetimeSeconds', () => {
  it.each([
    ['lsn, defaults: past maxLagSeconds + one jittered check interval + one check time limit', 'lsn', 15, health, 34],
    ['lsn, pinSeconds longer than any readable lag: pinSeconds', 'lsn', 60, health, 60],
    ['lsn, maxLagSeconds 0: still one check later', 'lsn', 1, { ...health, maxLagSeconds: 0 }, 4],
    ['time: the pin window, whatever the lag', 'time', 15, health, 15],
  ] as const)('%s', (_name, consistency, pinSeconds, limits, expected) => {
    expect(tokenLifetimeSeconds(consistency, pinSeconds, limits)).toBe(expected);
  });
});
