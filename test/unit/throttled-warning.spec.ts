import { clockTime, ThrottledWarning } from '../../lib/logging/throttled-warning.js';

function warningAt(intervalMs?: number) {
  const clock = { now: new Date(2025, 0, 2, 9, 31, 2).getTime() };
  const lines: string[] = [];
  const warning = new ThrottledWarning({ warn: (message: string) => lines.push(message) }, { intervalMs, now: () => clock.now });
  return { warning, lines, advance: (ms: number) => (clock.now += ms) };
}

describe('ThrottledWarning', () => {
  it('logs the first warning of a key, holds back the next ones for 10 s, then counts them', () => {
    const { warning, lines, advance } = warningAt();
    expect(warning.warn('store', 'The pin store failed')).toBe(true);
    for (let i = 0; i < 12; i++) {
      advance(500);
      expect(warning.warn('store', 'The pin store failed')).toBe(false);
    }
    advance(10_000 - 12 * 500 - 1);
    expect(warning.warn('store', 'The pin store failed')).toBe(false);
    advance(1);
    expect(warning.warn('store', 'The pin store failed again')).toBe(true);
    expect(lines).toEqual(['The pin store failed', 'The pin store failed again (13 more since 09:31:02)']);
  });

  it.each([
    // [what, calls as [ms after start, key], lines logged]
    [
      'keys are throttled apart',
      [
        [0, 'get'],
        [1, 'set'],
        [2, 'get'],
        [3, 'set'],
      ],
      ['get@0', 'set@1'],
    ],
    [
      'nothing held back: no count',
      [
        [0, 'get'],
        [10_000, 'get'],
        [25_000, 'get'],
      ],
      ['get@0', 'get@10000', 'get@25000'],
    ],
    [
      'the count starts again after each line',
      [
        [0, 'get'],
        [1, 'get'],
        [10_000, 'get'],
        [20_000, 'get'],
      ],
      ['get@0', 'get@10000 (1 more since 09:31:02)', 'get@20000'],
    ],
  ] as [string, [number, string][], string[]][])('%s', (_what, calls, expected) => {
    const { warning, lines, advance } = warningAt();
    let at = 0;
    for (const [ms, key] of calls) {
      advance(ms - at);
      at = ms;
      warning.warn(key, `${key}@${ms}`);
    }
    expect(lines).toEqual(expected);
  });

  it('takes another interval', () => {
    const { warning, lines, advance } = warningAt(1000);
    warning.warn('k', 'a');
    advance(999);
    warning.warn('k', 'b');
    advance(1);
    warning.warn('k', 'c');
    expect(lines).toEqual(['a', 'c (1 more since 09:31:02)']);
  });

  it('stamps the time of the line the count follows, as HH:MM:SS', () => {
    expect(clockTime(new Date(2025, 5, 7, 8, 5, 9, 999).getTime())).toBe('08:05:09');
    const { warning, lines, advance } = warningAt();
    warning.warn('k', 'a');
    advance(61_000);
    warning.warn('k', 'b'); // logged at 09:32:03
    advance(1);
    warning.warn('k', 'c');
    advance(10_000);
    warning.warn('k', 'd');
    expect(lines).toEqual(['a', 'b', 'd (1 more since 09:32:03)']);
  });
});
