import { onPrimaryTimeline, promotionCandidate, type PromotionReading, type PromotionVerdict } from '../../lib/health/promotion-candidate.js';

/**
 * Which server a set's writes follow once its primary is lost (sets.<name>.followPromotion), as a
 * table: each row gives what a round of checks read of the replicas, and the primary's timeline as
 * last read while it was healthy.
 */

type Reading = PromotionReading<string>;

/** A replica streaming from the primary on timeline 1. */
const following = (server: string, timeline = 1): Reading => ({ server, reachable: true, inRecovery: true, timeline });
/** A server out of recovery on `timeline`. */
const promoted = (server: string, timeline: number): Reading => ({ server, reachable: true, inRecovery: false, timeline });

describe('promotionCandidate', () => {
  it.each<{ name: string; primaryTimeline: number | undefined; readings: Reading[]; verdict: PromotionVerdict<string> }>([
    { name: 'every replica still in recovery: none', primaryTimeline: 1, readings: [following('r0'), following('r1')], verdict: { kind: 'none' } },
    { name: 'no replicas: none', primaryTimeline: 1, readings: [], verdict: { kind: 'none' } },
    {
      name: 'one replica out of recovery on a newer timeline: it',
      primaryTimeline: 1,
      readings: [promoted('r0', 2), following('r1')],
      verdict: { kind: 'promoted', server: 'r0', timeline: 2 },
    },
    {
      name: 'the other replica already follows it on the new timeline: still it',
      primaryTimeline: 1,
      readings: [following('r1', 2), promoted('r0', 2)],
      verdict: { kind: 'promoted', server: 'r0', timeline: 2 },
    },
    {
      name: 'out of recovery on the same timeline as the primary (a standalone server, a copy of the primary): none',
      primaryTimeline: 1,
      readings: [promoted('r0', 1), following('r1')],
      verdict: { kind: 'none' },
    },
    { name: 'out of recovery on an older timeline: none', primaryTimeline: 3, readings: [promoted('r0', 2)], verdict: { kind: 'none' } },
    {
      name: 'promoted, but it did not answer this round: none',
      primaryTimeline: 1,
      readings: [{ ...promoted('r0', 2), reachable: false }, following('r1')],
      verdict: { kind: 'none' },
    },
    {
      name: 'out of recovery, timeline not read: none',
      primaryTimeline: 1,
      readings: [{ server: 'r0', reachable: true, inRecovery: false }],
      verdict: { kind: 'none' },
    },
    { name: 'never read (no reading at all): none', primaryTimeline: 1, readings: [{ server: 'r0', reachable: true }], verdict: { kind: 'none' } },
    {
      name: "the primary's timeline unknown (never seen healthy): none, whatever the replicas say",
      primaryTimeline: undefined,
      readings: [promoted('r0', 2)],
      verdict: { kind: 'none' },
    },
    {
      name: 'two promoted on different newer timelines: the newest',
      primaryTimeline: 1,
      readings: [promoted('r0', 2), promoted('r1', 3)],
      verdict: { kind: 'promoted', server: 'r1', timeline: 3 },
    },
    {
      name: 'the newest timeline first, an older promotion after it: the newest',
      primaryTimeline: 1,
      readings: [promoted('r1', 3), promoted('r0', 2)],
      verdict: { kind: 'promoted', server: 'r1', timeline: 3 },
    },
    {
      name: 'two promoted on the same newest timeline (a split brain between them): ambiguous, neither',
      primaryTimeline: 1,
      readings: [promoted('r0', 2), promoted('r1', 2), following('r2')],
      verdict: { kind: 'ambiguous', servers: ['r0', 'r1'], timeline: 2 },
    },
    {
      name: 'a tie on an older timeline does not matter once a newer one is there',
      primaryTimeline: 1,
      readings: [promoted('r0', 2), promoted('r1', 2), promoted('r2', 4)],
      verdict: { kind: 'promoted', server: 'r2', timeline: 4 },
    },
    {
      name: 'a later promotion: the set followed r0 to timeline 2, r1 is promoted on 3',
      primaryTimeline: 2,
      readings: [promoted('r1', 3)],
      verdict: { kind: 'promoted', server: 'r1', timeline: 3 },
    },
  ])('$name', ({ primaryTimeline, readings, verdict }) => {
    expect(promotionCandidate(primaryTimeline, readings)).toEqual(verdict);
  });
});

describe('onPrimaryTimeline (a replica serves reads after a followed promotion)', () => {
  it.each<{ name: string; replica: number | undefined; primary: number; serves: boolean }>([
    { name: 'on the new primary’s timeline', replica: 2, primary: 2, serves: true },
    { name: 'on a newer one (it follows a later promotion already)', replica: 3, primary: 2, serves: true },
    { name: 'still on the old timeline', replica: 1, primary: 2, serves: false },
    { name: 'timeline unknown', replica: undefined, primary: 2, serves: false },
  ])('$name: $serves', ({ replica, primary, serves }) => {
    expect(onPrimaryTimeline(replica, primary)).toBe(serves);
  });
});
