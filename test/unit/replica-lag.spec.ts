import { lagExceeds, replicaLag } from '../../lib/health/replica-lag.js';

const limits = { maxLagBytes: 1000, maxLagSeconds: 5 };

describe('replicaLag', () => {
  it('an idle primary with a caught-up replica is no lag, however old its last transaction', () => {
    const lag = replicaLag({ primaryLsn: 500n, replayLsn: 500n, receiveLsn: 500n, secondsSinceReplay: 3600 });
    expect(lag).toEqual({ lagBytes: 0, lagSeconds: 0 });
    expect(lagExceeds(lag, limits)).toBe(false);
  });

  it('a replica that replayed all it received has no time lag even while the primary has moved on (a WAL record in flight)', () => {
    expect(replicaLag({ primaryLsn: 510n, replayLsn: 500n, receiveLsn: 500n, secondsSinceReplay: 3600 })).toEqual({ lagBytes: 10, lagSeconds: 0 });
  });

  it('a replica with received WAL left to replay lags by the time since its last replayed transaction', () => {
    const lag = replicaLag({ primaryLsn: 900n, replayLsn: 500n, receiveLsn: 900n, secondsSinceReplay: 12 });
    expect(lag).toEqual({ lagBytes: 400, lagSeconds: 12 });
    expect(lagExceeds(lag, limits)).toBe(true);
  });

  it('a replica caught up at the last check is at most that long behind, however quiet the primary was before', () => {
    // Paused a second ago, after 40 s without a transaction: the last replayed one is 40 s old.
    const lag = replicaLag({ primaryLsn: 900n, replayLsn: 500n, receiveLsn: 900n, secondsSinceReplay: 40, secondsSinceCaughtUp: 1.2 });
    expect(lag).toEqual({ lagBytes: 400, lagSeconds: 1.2 });
    expect(lagExceeds(lag, limits)).toBe(false);
    expect(replicaLag({ primaryLsn: 900n, replayLsn: 500n, receiveLsn: 900n, secondsSinceReplay: 3, secondsSinceCaughtUp: 60 }).lagSeconds).toBe(3);
  });

  it('counts bytes past maxLagBytes as lagging, whatever the time', () => {
    const lag = replicaLag({ primaryLsn: 5000n, replayLsn: 500n, receiveLsn: 500n, secondsSinceReplay: 1 });
    expect(lag.lagBytes).toBe(4500);
    expect(lagExceeds(lag, limits)).toBe(true);
  });

  it('without the primary (down), bytes are unknown and only time counts', () => {
    const lag = replicaLag({ replayLsn: 500n, receiveLsn: 800n, secondsSinceReplay: 2 });
    expect(lag).toEqual({ lagBytes: undefined, lagSeconds: 2 });
    expect(lagExceeds(lag, limits)).toBe(false);
  });

  it('a replica ahead of the primary reading (read just before) is no lag', () => {
    expect(replicaLag({ primaryLsn: 500n, replayLsn: 600n, receiveLsn: 600n, secondsSinceReplay: 9 })).toEqual({ lagBytes: 0, lagSeconds: 0 });
  });
});
