import { WalHistory } from '../../lib/health/wal-history.js';

const points = (history: WalHistory) => history.readings.map(({ at, lsn }) => [at, Number(lsn)]);

describe('WalHistory', () => {
  it('an idle primary makes one entry, at the latest time it was seen there', () => {
    const history = new WalHistory(10_000);
    for (const at of [0, 1000, 2000, 3000]) history.record(500n, at);
    expect(points(history)).toEqual([[3000, 500]]);
  });

  it('keeps each new position in order', () => {
    const history = new WalHistory(10_000);
    history.record(500n, 0);
    history.record(600n, 1000);
    history.record(600n, 2000);
    history.record(900n, 3000);
    expect(points(history)).toEqual([
      [0, 500],
      [2000, 600],
      [3000, 900],
    ]);
  });

  it('drops readings past retainMs, keeping the newest of the old ones so the span covers retainMs', () => {
    const history = new WalHistory(2500);
    for (let i = 0; i <= 10; i++) history.record(BigInt(100 * i), i * 1000);
    // At 10 s: 7.5 s is the edge; 7 s stays as the one reading older than it.
    expect(points(history).map(([at]) => at)).toEqual([7000, 8000, 9000, 10_000]);
  });

  it('keeps at most maxEntries', () => {
    const history = new WalHistory(1_000_000, 3);
    for (let i = 0; i < 10; i++) history.record(BigInt(i), i);
    expect(points(history)).toEqual([
      [7, 7],
      [8, 8],
      [9, 9],
    ]);
  });

  it('a position behind the last one (another server at the address) starts the history over', () => {
    const history = new WalHistory(10_000);
    history.record(500n, 0);
    history.record(900n, 1000);
    history.record(300n, 2000);
    expect(points(history)).toEqual([[2000, 300]]);
  });
});
