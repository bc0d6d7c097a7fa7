import { serverTimingValue } from '../../lib/routing/server-timing.js';

const figures = (primary: number, replica: number, retries = 0, fallbacks = 0, replayWaits = 0, replayWaitMs = 0) => ({
  primary,
  replica,
  servers: {},
  retries,
  fallbacks,
  replayWaits,
  replayWaitMs,
});

describe('serverTimingValue', () => {
  it('gives one pindb entry with the counts, and no dur (they are counts, not times)', () => {
    expect(serverTimingValue({ queries: 5, sets: { default: figures(2, 3, 1, 1) }, ignoredTokens: 0 })).toBe(
      'pindb;desc="primary 2, replica 3, retries 1, fallbacks 1"',
    );
  });

  it('gives zeros for a request without statements', () => {
    expect(serverTimingValue({ queries: 0, sets: {}, ignoredTokens: 0 })).toBe('pindb;desc="primary 0, replica 0, retries 0, fallbacks 0"');
  });

  it('totals every set, then gives one entry per set when the request used several', () => {
    const value = serverTimingValue({ queries: 6, sets: { default: figures(1, 2), analytics: figures(0, 3, 1) }, ignoredTokens: 0 });
    expect(value).toBe(
      'pindb;desc="primary 1, replica 5, retries 1, fallbacks 0", ' +
        'pindb-set;desc="default: primary 1, replica 2, retries 0, fallbacks 0", ' +
        'pindb-set;desc="analytics: primary 0, replica 3, retries 1, fallbacks 0"',
    );
  });

  it('escapes quotes and backslashes in set names, and replaces what a header cannot carry', () => {
    const value = serverTimingValue({ queries: 2, sets: { 'a"b\\c': figures(1, 0), 'é日\n': figures(1, 0) }, ignoredTokens: 0 });
    expect(value).toContain('pindb-set;desc="a\\"b\\\\c: primary 1');
    expect(value).toContain('pindb-set;desc="???: primary 1');
    expect(value).toMatch(/^[\t\x20-\x7e]*$/);
  });

  it('adds a pindb-replay-wait duration, in ms over every set, when the request waited for a replica to replay its token', () => {
    expect(serverTimingValue({ queries: 1, sets: { default: figures(0, 1, 0, 0, 1, 12.34) }, ignoredTokens: 0 })).toBe(
      'pindb;desc="primary 0, replica 1, retries 0, fallbacks 0", pindb-replay-wait;dur=12.3',
    );
    const value = serverTimingValue({ queries: 3, sets: { default: figures(1, 0, 0, 0, 1, 500.04), analytics: figures(0, 2, 0, 0, 1, 7) }, ignoredTokens: 0 });
    expect(value).toMatch(/^pindb;desc="primary 1, replica 2, retries 0, fallbacks 0", pindb-set;.*, pindb-replay-wait;dur=507\.0$/);
  });

  it('gives no pindb-replay-wait entry when nothing waited', () => {
    expect(serverTimingValue({ queries: 1, sets: { default: figures(0, 1) }, ignoredTokens: 0 })).not.toContain('replay-wait');
  });
});
