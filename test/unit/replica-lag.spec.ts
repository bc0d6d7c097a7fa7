import { lagExceeds, LagSample, replicaLag, ReplicaLag, WalReading } from '../../lib/health/replica-lag.js';

const limits = { maxLagBytes: 1000, maxLagSeconds: 5 };

/** Readings of the primary, one a second (times in seconds, as ms), oldest first. */
const readings = (...points: [seconds: number, lsn: number][]): WalReading[] => points.map(([s, lsn]) => ({ at: s * 1000, lsn: BigInt(lsn) }));

interface Case {
  name: string;
  sample: LagSample;
  lag: ReplicaLag;
  lagging: boolean;
}

const NOW = 100_000; // 100 s

const cases: Case[] = [
  {
    name: 'an idle primary with a caught-up replica is no lag, however old its last transaction',
    sample: { now: NOW, history: readings([60, 500], [99, 500]), primaryLsn: 500n, replayLsn: 500n, receiveLsn: 500n, secondsSinceReplay: 3600 },
    lag: { lagBytes: 0, lagSeconds: 0 },
    lagging: false,
  },
  {
    name: 'a replica past the reading (the primary wrote between the two checks, and it replayed that too) is no lag',
    sample: { now: NOW, history: readings([99, 500]), primaryLsn: 500n, replayLsn: 600n, receiveLsn: 600n, secondsSinceReplay: 9 },
    lag: { lagBytes: 0, lagSeconds: 0 },
    lagging: false,
  },
  {
    name: 'a busy primary with a replica a few ms behind: small lag, by its last replayed transaction',
    sample: { now: NOW, history: readings([98, 1000], [99, 2000]), primaryLsn: 2000n, replayLsn: 1990n, receiveLsn: 2000n, secondsSinceReplay: 0.004 },
    lag: { lagBytes: 10, lagSeconds: 0.004 },
    lagging: false,
  },
  {
    name: 'cut off from a busy primary (replayed all it received): lags from the last reading it had caught up with',
    sample: {
      now: NOW,
      history: readings([90, 1000], [91, 1100], [95, 1500], [99, 1900]),
      primaryLsn: 1900n,
      replayLsn: 1100n,
      receiveLsn: 1100n,
      secondsSinceReplay: 9.5,
    },
    lag: { lagBytes: 800, lagSeconds: 9 },
    lagging: true,
  },
  {
    name: 'cut off from a mostly idle primary: lags from its first write the replica lacks, not from its last transaction an hour ago',
    // Idle at 500 until a write between the readings at 97 s and 98 s.
    sample: { now: NOW, history: readings([97, 500], [98, 620], [99, 620]), primaryLsn: 620n, replayLsn: 500n, receiveLsn: 500n, secondsSinceReplay: 3600 },
    lag: { lagBytes: 120, lagSeconds: 3 },
    lagging: false,
  },
  {
    name: 'the same replica, cut off for longer: past maxLagSeconds',
    sample: { now: NOW, history: readings([93, 500], [94, 620], [99, 620]), primaryLsn: 620n, replayLsn: 500n, receiveLsn: 500n, secondsSinceReplay: 3600 },
    lag: { lagBytes: 120, lagSeconds: 7 },
    lagging: true,
  },
  {
    name: 'replay paused, WAL received and waiting: the same rule',
    sample: { now: NOW, history: readings([80, 500], [99, 900]), primaryLsn: 900n, replayLsn: 500n, receiveLsn: 900n, secondsSinceReplay: 40 },
    lag: { lagBytes: 400, lagSeconds: 20 },
    lagging: true,
  },
  {
    name: 'the primary down this round: bytes unknown, the lag keeps growing from the history',
    sample: { now: NOW, history: readings([90, 500], [91, 700]), replayLsn: 500n, receiveLsn: 500n, secondsSinceReplay: 3600 },
    lag: { lagBytes: undefined, lagSeconds: 10 },
    lagging: true,
  },
  {
    name: 'the primary down this round, the replica caught up with its last reading: no lag',
    sample: { now: NOW, history: readings([90, 500], [91, 700]), replayLsn: 700n, receiveLsn: 700n, secondsSinceReplay: 3600 },
    lag: { lagBytes: undefined, lagSeconds: 0 },
    lagging: false,
  },
  {
    name: 'behind even the oldest reading kept: at least that long, or since its last replayed transaction if longer',
    sample: { now: NOW, history: readings([70, 800], [99, 900]), primaryLsn: 900n, replayLsn: 500n, receiveLsn: 500n, secondsSinceReplay: 3600 },
    lag: { lagBytes: 400, lagSeconds: 3600 },
    lagging: true,
  },
  {
    name: 'behind the oldest reading, no replayed transaction yet: since the oldest reading',
    sample: { now: NOW, history: readings([70, 800], [99, 900]), primaryLsn: 900n, replayLsn: 500n, receiveLsn: 500n },
    lag: { lagBytes: 400, lagSeconds: 30 },
    lagging: true,
  },
  {
    name: 'no reading of the primary yet: received WAL left to replay lags by its last replayed transaction',
    sample: { now: NOW, history: [], replayLsn: 500n, receiveLsn: 800n, secondsSinceReplay: 2 },
    lag: { lagBytes: undefined, lagSeconds: 2 },
    lagging: false,
  },
  {
    name: 'no reading of the primary yet, all received replayed: nothing to measure against, no lag',
    sample: { now: NOW, history: [], replayLsn: 500n, receiveLsn: 500n, secondsSinceReplay: 3600 },
    lag: { lagBytes: undefined, lagSeconds: 0 },
    lagging: false,
  },
  {
    name: 'bytes past maxLagBytes lag, whatever the time',
    sample: { now: NOW, history: readings([99, 400], [99.9, 5000]), primaryLsn: 5000n, replayLsn: 500n, receiveLsn: 5000n, secondsSinceReplay: 0.05 },
    lag: { lagBytes: 4500, lagSeconds: 0.05 },
    lagging: true,
  },
  {
    name: 'no replay position (not a standby): no time lag to speak of',
    sample: { now: NOW, history: readings([99, 500]), primaryLsn: 500n },
    lag: { lagBytes: undefined, lagSeconds: 0 },
    lagging: false,
  },
];

describe('replicaLag: time lag counts from where the replica fell behind the PRIMARY', () => {
  it.each(cases)('$name', ({ sample, lag, lagging }) => {
    const found = replicaLag(sample);
    expect(found.lagBytes).toBe(lag.lagBytes);
    expect(found.lagSeconds).toBeCloseTo(lag.lagSeconds, 6);
    expect(lagExceeds(found, limits)).toBe(lagging);
  });

  it('a clock step backwards (a reading in the future) is no negative lag', () => {
    expect(replicaLag({ now: 1000, history: readings([5, 500], [6, 600]), primaryLsn: 600n, replayLsn: 500n, secondsSinceReplay: -2 }).lagSeconds).toBe(0);
  });
});
