import { hasWaitForLsn, waitForLsnStatement, waitForLsnStatus } from '../../lib/routing/wait-for-lsn.js';

describe("PostgreSQL 19's WAIT FOR LSN", () => {
  it.each([
    [0n, 1, "WAIT FOR LSN '0/0' WITH (TIMEOUT '1ms', NO_THROW)"],
    [0x16b3748n, 200, "WAIT FOR LSN '0/16B3748' WITH (TIMEOUT '200ms', NO_THROW)"],
    [(0x1n << 32n) | 0xan, 500, "WAIT FOR LSN '1/A' WITH (TIMEOUT '500ms', NO_THROW)"],
    [(1n << 64n) - 1n, 60_000, "WAIT FOR LSN 'FFFFFFFF/FFFFFFFF' WITH (TIMEOUT '60000ms', NO_THROW)"],
    // What is left of a wait is fractional: rounded up, so that the server never waits less.
    [0x10n, 12.3, "WAIT FOR LSN '0/10' WITH (TIMEOUT '13ms', NO_THROW)"],
    [0x10n, 0.2, "WAIT FOR LSN '0/10' WITH (TIMEOUT '1ms', NO_THROW)"],
  ])('waitForLsnStatement(%s, %s) is %s', (lsn, timeoutMs, sql) => {
    expect(waitForLsnStatement(lsn, timeoutMs)).toBe(sql);
  });

  it.each([
    [-1n, 100, /is not a WAL position/],
    [1n << 64n, 100, /is not a WAL position/],
    [1n, 0, /timeout must be a finite number of milliseconds > 0 \(got 0\)/],
    [1n, -5, /got -5/],
    [1n, Number.NaN, /got NaN/],
    [1n, Number.POSITIVE_INFINITY, /got Infinity/],
  ])('waitForLsnStatement(%s, %s) refuses what cannot go into the SQL text', (lsn, timeoutMs, message) => {
    expect(() => waitForLsnStatement(lsn, timeoutMs)).toThrow(message);
  });

  it.each([
    [[{ status: 'success' }], 'success'],
    [[{ status: 'timeout' }], 'timeout'],
    [[{ status: 'not in recovery' }], 'not in recovery'],
    [[{ anything: 'success' }], 'success'], // the one column, whatever its name
    [[{ status: 'SUCCESS' }], undefined],
    [[], undefined],
    [[{ status: 'success' }, { status: 'success' }], undefined],
    [[{ status: null }], undefined],
  ])('waitForLsnStatus(%j) is %s', (rows, status) => {
    expect(waitForLsnStatus(rows)).toBe(status);
  });

  it.each([
    [undefined, false],
    [150007, false],
    [180004, false],
    [189999, false],
    [190000, true],
    [190002, true],
    [200000, true],
  ])('hasWaitForLsn(%s) is %s', (version, has) => {
    expect(hasWaitForLsn(version)).toBe(has);
  });
});
