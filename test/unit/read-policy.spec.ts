import {
  afterFailure,
  routeRead,
  withinMaxLag,
  writeVerdict,
  type FailureAction,
  type FailureInputs,
  type LagReading,
  type ReadInputs,
  type ReadRoute,
  type WriteInputs,
  type WriteVerdict,
} from '../../lib/routing/read-policy.js';

/**
 * The routing policy as tables, one per function (in the style of GitLab's load_balancer_spec):
 * each row changes a few inputs of a plain read, and says where the read goes / what happens after
 * the failure.
 */

const LSN = 0x16b3748n;

/** A read in a context with nothing special: replicas, no scope, no pin, no token, the primary up. */
const PLAIN_READ: ReadInputs = {
  hasReplicas: true,
  defaultTarget: 'replica',
  forcedReplica: false,
  pinned: false,
  readsFromPrimary: false,
  behind: false,
  primaryDown: false,
};

const PRIMARY: ReadRoute = { to: 'primary' };
const ANY_REPLICA: ReadRoute = { to: 'replica' };
const CAUGHT_UP_REPLICA: ReadRoute = { to: 'replica', atLeast: LSN };
const REPLICA_WITHIN_200_MS: ReadRoute = { to: 'replica', maxLagMs: 200 };

describe('routeRead', () => {
  it.each<{ name: string; inputs: Partial<ReadInputs>; route: ReadRoute }>([
    { name: 'a plain read: any replica', inputs: {}, route: ANY_REPLICA },
    // no replicas (none configured, or enabled: false)
    { name: 'no replicas: the primary', inputs: { hasReplicas: false }, route: PRIMARY },
    { name: 'no replicas, inside useReplica: the primary', inputs: { hasReplicas: false, scoped: 'replica' }, route: PRIMARY },
    { name: 'no replicas, @UseReplica: the primary', inputs: { hasReplicas: false, forcedReplica: true }, route: PRIMARY },
    { name: 'no replicas, the primary down: the primary still', inputs: { hasReplicas: false, primaryDown: true }, route: PRIMARY },
    // scopes
    { name: 'inside usePrimary: the primary', inputs: { scoped: 'primary' }, route: PRIMARY },
    { name: 'inside usePrimary, with @UseReplica: the scope wins, the primary', inputs: { scoped: 'primary', forcedReplica: true }, route: PRIMARY },
    { name: 'inside usePrimary, the primary down: the primary (asked for)', inputs: { scoped: 'primary', primaryDown: true }, route: PRIMARY },
    { name: 'inside useReplica: any replica', inputs: { scoped: 'replica' }, route: ANY_REPLICA },
    { name: 'inside useReplica, pinned: the scope wins, any replica', inputs: { scoped: 'replica', pinned: true }, route: ANY_REPLICA },
    { name: 'inside useReplica, the pin store failed: any replica', inputs: { scoped: 'replica', readsFromPrimary: true }, route: ANY_REPLICA },
    {
      name: 'inside useReplica, a token with a position: any replica, not waiting for it',
      inputs: { scoped: 'replica', entry: { lsn: LSN } },
      route: ANY_REPLICA,
    },
    { name: 'inside useReplica, a token by time: any replica', inputs: { scoped: 'replica', entry: {} }, route: ANY_REPLICA },
    // @UseReplica
    { name: '@UseReplica: any replica', inputs: { forcedReplica: true }, route: ANY_REPLICA },
    { name: '@UseReplica, pinned: any replica', inputs: { forcedReplica: true, pinned: true }, route: ANY_REPLICA },
    { name: '@UseReplica, the pin store failed: any replica', inputs: { forcedReplica: true, readsFromPrimary: true }, route: ANY_REPLICA },
    {
      name: '@UseReplica, a token no replica has replayed: any replica',
      inputs: { forcedReplica: true, entry: { lsn: LSN }, behind: true },
      route: ANY_REPLICA,
    },
    { name: '@UseReplica, a token by time: any replica', inputs: { forcedReplica: true, entry: {} }, route: ANY_REPLICA },
    // pins
    { name: 'pinned: the primary', inputs: { pinned: true }, route: PRIMARY },
    { name: 'pinned, the primary down: the primary (the context wrote there)', inputs: { pinned: true, primaryDown: true }, route: PRIMARY },
    { name: 'pinned, with a token a replica has replayed: the primary', inputs: { pinned: true, entry: { lsn: LSN } }, route: PRIMARY },
    // the pin store
    { name: 'the pin store failed: the primary', inputs: { readsFromPrimary: true }, route: PRIMARY },
    { name: 'the pin store failed, the primary down: the primary', inputs: { readsFromPrimary: true, primaryDown: true }, route: PRIMARY },
    // token entries
    { name: 'a token with a position: a replica that has replayed it', inputs: { entry: { lsn: LSN } }, route: CAUGHT_UP_REPLICA },
    { name: 'a token with a position, no replica has replayed it: the primary', inputs: { entry: { lsn: LSN }, behind: true }, route: PRIMARY },
    {
      name: 'a token with a position, the primary down: a replica that has replayed it',
      inputs: { entry: { lsn: LSN }, primaryDown: true },
      route: CAUGHT_UP_REPLICA,
    },
    {
      name: 'a token with a position, no replica has it, the primary down: the primary',
      inputs: { entry: { lsn: LSN }, behind: true, primaryDown: true },
      route: PRIMARY,
    },
    { name: 'a token by time (no position): the primary', inputs: { entry: {} }, route: PRIMARY },
    { name: 'a token by time, behind: the primary', inputs: { entry: {}, behind: true }, route: PRIMARY },
    {
      name: 'a token by time, the primary down: any replica (reading the primary would only fail)',
      inputs: { entry: {}, primaryDown: true },
      route: ANY_REPLICA,
    },
    // maxLagMs of a replica scope
    { name: 'inside useReplica with maxLagMs: a replica within it', inputs: { scoped: 'replica', scopedMaxLagMs: 200 }, route: REPLICA_WITHIN_200_MS },
    {
      name: 'inside useReplica with maxLagMs 0: a replica with no lag',
      inputs: { scoped: 'replica', scopedMaxLagMs: 0 },
      route: { to: 'replica', maxLagMs: 0 },
    },
    {
      name: 'inside useReplica with maxLagMs, pinned, with a token: the scope wins, a replica within it',
      inputs: { scoped: 'replica', scopedMaxLagMs: 200, pinned: true, entry: { lsn: LSN } },
      route: REPLICA_WITHIN_200_MS,
    },
    { name: '@UseReplica with maxLagMs: a replica within it', inputs: { forcedReplica: true, forcedMaxLagMs: 200 }, route: REPLICA_WITHIN_200_MS },
    {
      name: '@UseReplica with maxLagMs, inside a plain useReplica: the innermost scope decides, any replica',
      inputs: { scoped: 'replica', forcedReplica: true, forcedMaxLagMs: 200 },
      route: ANY_REPLICA,
    },
    {
      name: "@UseReplica with maxLagMs, inside useReplica with its own: the scope's bound",
      inputs: { scoped: 'replica', scopedMaxLagMs: 1000, forcedReplica: true, forcedMaxLagMs: 200 },
      route: { to: 'replica', maxLagMs: 1000 },
    },
    {
      name: '@UseReplica with maxLagMs, inside usePrimary: the primary',
      inputs: { scoped: 'primary', forcedReplica: true, forcedMaxLagMs: 200 },
      route: PRIMARY,
    },
    { name: 'maxLagMs of a scope, no replicas: the primary', inputs: { hasReplicas: false, scoped: 'replica', scopedMaxLagMs: 200 }, route: PRIMARY },
    // defaultTarget: 'primary'
    { name: "defaultTarget 'primary', a plain read: the primary", inputs: { defaultTarget: 'primary' }, route: PRIMARY },
    { name: "defaultTarget 'primary', inside useReplica: any replica", inputs: { defaultTarget: 'primary', scoped: 'replica' }, route: ANY_REPLICA },
    { name: "defaultTarget 'primary', @UseReplica: any replica", inputs: { defaultTarget: 'primary', forcedReplica: true }, route: ANY_REPLICA },
    {
      name: "defaultTarget 'primary', @UseReplica with maxLagMs: a replica within it",
      inputs: { defaultTarget: 'primary', forcedReplica: true, forcedMaxLagMs: 200 },
      route: REPLICA_WITHIN_200_MS,
    },
    { name: "defaultTarget 'primary', inside usePrimary: the primary", inputs: { defaultTarget: 'primary', scoped: 'primary' }, route: PRIMARY },
    { name: "defaultTarget 'primary', pinned: the primary", inputs: { defaultTarget: 'primary', pinned: true }, route: PRIMARY },
    {
      name: "defaultTarget 'primary', a token a replica has replayed: the primary (as fresh, and what the app asked for)",
      inputs: { defaultTarget: 'primary', entry: { lsn: LSN } },
      route: PRIMARY,
    },
    {
      name: "defaultTarget 'primary', inside useReplica, a token: any replica (a scope ignores tokens, as with 'replica')",
      inputs: { defaultTarget: 'primary', scoped: 'replica', entry: { lsn: LSN } },
      route: ANY_REPLICA,
    },
    {
      name: "defaultTarget 'primary', the primary down: the primary still (no silent move to replicas)",
      inputs: { defaultTarget: 'primary', primaryDown: true },
      route: PRIMARY,
    },
    {
      name: "defaultTarget 'primary', a token by time, the primary down: the primary still",
      inputs: { defaultTarget: 'primary', entry: {}, primaryDown: true },
      route: PRIMARY,
    },
    { name: "defaultTarget 'primary', no replicas: the primary", inputs: { defaultTarget: 'primary', hasReplicas: false, scoped: 'replica' }, route: PRIMARY },
    // inputs that alone change nothing
    { name: 'behind without a token entry: any replica', inputs: { behind: true }, route: ANY_REPLICA },
    { name: 'the primary down, nothing else: any replica', inputs: { primaryDown: true }, route: ANY_REPLICA },
  ])('$name', ({ inputs, route }) => {
    // toStrictEqual: "any replica" carries no position to wait for.
    expect(routeRead({ ...PLAIN_READ, ...inputs })).toStrictEqual(route);
  });
});

describe('withinMaxLag', () => {
  const reading = (lagSeconds: number): LagReading => ({ lagSeconds, replayLsn: LSN });
  it.each<{ name: string; reading: LagReading | undefined; maxLagMs: number | undefined; qualifies: boolean }>([
    { name: 'no bound: a replica qualifies', reading: reading(5), maxLagMs: undefined, qualifies: true },
    { name: 'no bound, its lag never read: it qualifies (readable is decided elsewhere)', reading: undefined, maxLagMs: undefined, qualifies: true },
    { name: 'no lag, a bound of 200 ms: qualifies', reading: reading(0), maxLagMs: 200, qualifies: true },
    { name: 'no lag, a bound of 0: qualifies', reading: reading(0), maxLagMs: 0, qualifies: true },
    { name: '150 ms behind, a bound of 200 ms: qualifies', reading: reading(0.15), maxLagMs: 200, qualifies: true },
    { name: 'exactly at the bound (200 ms): qualifies', reading: reading(200 / 1000), maxLagMs: 200, qualifies: true },
    { name: 'exactly at a bound of 7 ms: qualifies (no rounding error)', reading: reading(7 / 1000), maxLagMs: 7, qualifies: true },
    { name: '201 ms behind, a bound of 200 ms: does not', reading: reading(0.201), maxLagMs: 200, qualifies: false },
    { name: '3 s behind, a bound of 200 ms: does not', reading: reading(3), maxLagMs: 200, qualifies: false },
    { name: '1 ms behind, a bound of 0: does not', reading: reading(0.001), maxLagMs: 0, qualifies: false },
    { name: 'lag never read (no health check yet): does not', reading: undefined, maxLagMs: 200, qualifies: false },
    { name: 'no replay position (lag unknown): does not', reading: { lagSeconds: 0 }, maxLagMs: 200, qualifies: false },
    { name: 'an infinite lag: does not, even under a large bound', reading: reading(Infinity), maxLagMs: 1e12, qualifies: false },
    { name: 'a lag that is not a number: does not', reading: reading(NaN), maxLagMs: 200, qualifies: false },
  ])('$name', ({ reading, maxLagMs, qualifies }) => {
    expect(withinMaxLag(reading, maxLagMs)).toBe(qualifies);
  });
});

/** A write in a greedy context with no scope, no pin, no @UseReplica. */
const PLAIN_WRITE: WriteInputs = { strict: false, pinned: false, scopedPreventsWrites: false, forcedPreventsWrites: false };

describe('writeVerdict', () => {
  it.each<{ name: string; inputs: Partial<WriteInputs>; verdict: WriteVerdict }>([
    { name: 'greedy, a plain write: goes ahead', inputs: {}, verdict: 'write' },
    { name: 'greedy, inside a plain useReplica: goes ahead', inputs: { scoped: 'replica' }, verdict: 'write' },
    {
      name: 'inside useReplica with preventWrites: prevented by the scope',
      inputs: { scoped: 'replica', scopedPreventsWrites: true },
      verdict: 'prevented-by-scope',
    },
    {
      name: 'inside useReplica with preventWrites, pinned: prevented (a pin does not open the scope)',
      inputs: { scoped: 'replica', scopedPreventsWrites: true, pinned: true },
      verdict: 'prevented-by-scope',
    },
    {
      name: "inside useReplica with preventWrites, strict and unpinned: the scope's error, not strict mode's",
      inputs: { strict: true, scoped: 'replica', scopedPreventsWrites: true },
      verdict: 'prevented-by-scope',
    },
    { name: '@UseReplica with preventWrites: prevented by the decorator', inputs: { forcedPreventsWrites: true }, verdict: 'prevented-by-decorator' },
    { name: '@UseReplica with preventWrites, pinned: prevented', inputs: { forcedPreventsWrites: true, pinned: true }, verdict: 'prevented-by-decorator' },
    {
      name: "@UseReplica with preventWrites, strict: the decorator's error",
      inputs: { strict: true, forcedPreventsWrites: true },
      verdict: 'prevented-by-decorator',
    },
    {
      name: '@UseReplica with preventWrites, inside usePrimary: the innermost scope lets it through',
      inputs: { scoped: 'primary', forcedPreventsWrites: true },
      verdict: 'write',
    },
    {
      name: '@UseReplica with preventWrites, inside a plain useReplica: the innermost scope decides, it goes ahead',
      inputs: { scoped: 'replica', forcedPreventsWrites: true },
      verdict: 'write',
    },
    {
      name: '@UseReplica with preventWrites, inside usePrimary, strict and unpinned: goes ahead (usePrimary allows it)',
      inputs: { strict: true, scoped: 'primary', forcedPreventsWrites: true },
      verdict: 'write',
    },
    { name: 'strict, unpinned: unpinned', inputs: { strict: true }, verdict: 'unpinned' },
    { name: 'strict, pinned: goes ahead', inputs: { strict: true, pinned: true }, verdict: 'write' },
    { name: 'strict, inside usePrimary: goes ahead', inputs: { strict: true, scoped: 'primary' }, verdict: 'write' },
    { name: 'strict, inside a plain useReplica, unpinned: unpinned', inputs: { strict: true, scoped: 'replica' }, verdict: 'unpinned' },
  ])('$name', ({ inputs, verdict }) => {
    expect(writeVerdict({ ...PLAIN_WRITE, ...inputs })).toBe(verdict);
  });
});

/** A read's first failure on a replica of a set of two, outside a transaction, with no session state. */
const FIRST_FAILURE_ON_REPLICA: FailureInputs = { onReplica: true, inTransaction: false, attempt: 0, replicas: 2 };

describe('afterFailure', () => {
  it.each<{ name: string; inputs: Partial<FailureInputs>; action: FailureAction }>([
    // on the primary
    { name: 'primary unreachable: no database (never sent again)', inputs: { onReplica: false, failure: 'unreachable' }, action: 'no-database' },
    {
      name: 'primary unreachable in a transaction: no database',
      inputs: { onReplica: false, failure: 'unreachable', inTransaction: true },
      action: 'no-database',
    },
    {
      name: 'primary unreachable after retries elsewhere: no database',
      inputs: { onReplica: false, failure: 'unreachable', attempt: 2 },
      action: 'no-database',
    },
    { name: 'primary, a statement error: thrown as it is', inputs: { onReplica: false }, action: 'throw' },
    { name: 'primary, a recovery conflict: thrown as it is', inputs: { onReplica: false, failure: 'recovery-conflict' }, action: 'throw' },
    { name: 'primary, "needs the primary": thrown as it is', inputs: { onReplica: false, failure: 'needs-primary' }, action: 'throw' },
    // a replica refused a write
    { name: 'replica refused a write: it is one, on the primary', inputs: { failure: 'needs-primary' }, action: 'write-on-primary' },
    {
      name: 'replica refused a write, replayable session state: on the primary',
      inputs: { failure: 'needs-primary', sessionState: 'replayable' },
      action: 'write-on-primary',
    },
    {
      name: 'replica refused a write, sticky session state: on the primary (the move is checked there)',
      inputs: { failure: 'needs-primary', sessionState: 'sticky' },
      action: 'write-on-primary',
    },
    {
      name: 'replica refused a write at the last attempt (attempt = replicas): on the primary',
      inputs: { failure: 'needs-primary', attempt: 2 },
      action: 'write-on-primary',
    },
    { name: 'replica refused a write, attempts exhausted: thrown', inputs: { failure: 'needs-primary', attempt: 3 }, action: 'throw' },
    { name: 'replica refused a write in a transaction: thrown', inputs: { failure: 'needs-primary', inTransaction: true }, action: 'throw' },
    // a replica unreachable
    { name: 'replica unreachable: another replica', inputs: { failure: 'unreachable' }, action: 'another-replica' },
    {
      name: 'replica unreachable, second attempt of two replicas: another replica (the primary if none is readable)',
      inputs: { failure: 'unreachable', attempt: 1 },
      action: 'another-replica',
    },
    { name: 'replica unreachable, attempt = replicas: another replica', inputs: { failure: 'unreachable', attempt: 2 }, action: 'another-replica' },
    { name: 'replica unreachable, attempts exhausted: thrown', inputs: { failure: 'unreachable', attempt: 3 }, action: 'throw' },
    { name: 'replica unreachable in a transaction: thrown', inputs: { failure: 'unreachable', inTransaction: true }, action: 'throw' },
    {
      name: 'replica unreachable, replayable session state: another replica (the state is sent again)',
      inputs: { failure: 'unreachable', sessionState: 'replayable' },
      action: 'another-replica',
    },
    {
      name: 'replica unreachable, sticky session state: thrown (another connection lacks it)',
      inputs: { failure: 'unreachable', sessionState: 'sticky' },
      action: 'throw',
    },
    // a recovery conflict on a replica
    { name: 'recovery conflict, first attempt of two replicas: another replica', inputs: { failure: 'recovery-conflict' }, action: 'another-replica' },
    { name: 'recovery conflict, second attempt of two replicas: the primary', inputs: { failure: 'recovery-conflict', attempt: 1 }, action: 'primary' },
    { name: 'recovery conflict, attempt = replicas: the primary', inputs: { failure: 'recovery-conflict', attempt: 2 }, action: 'primary' },
    { name: 'recovery conflict, attempts exhausted: thrown', inputs: { failure: 'recovery-conflict', attempt: 3 }, action: 'throw' },
    { name: 'recovery conflict, the only replica: the primary at once', inputs: { failure: 'recovery-conflict', replicas: 1 }, action: 'primary' },
    {
      name: 'recovery conflict, attempt 1 of three replicas: another replica',
      inputs: { failure: 'recovery-conflict', replicas: 3, attempt: 1 },
      action: 'another-replica',
    },
    {
      name: 'recovery conflict, attempt 2 of three replicas: the primary',
      inputs: { failure: 'recovery-conflict', replicas: 3, attempt: 2 },
      action: 'primary',
    },
    { name: 'recovery conflict in a transaction: thrown', inputs: { failure: 'recovery-conflict', inTransaction: true }, action: 'throw' },
    {
      name: 'recovery conflict, replayable session state: another replica',
      inputs: { failure: 'recovery-conflict', sessionState: 'replayable' },
      action: 'another-replica',
    },
    { name: 'recovery conflict, sticky session state: thrown', inputs: { failure: 'recovery-conflict', sessionState: 'sticky' }, action: 'throw' },
    // the statement itself failed
    { name: 'replica, a statement error: thrown (it would fail anywhere)', inputs: {}, action: 'throw' },
    { name: 'replica, a statement error in a transaction: thrown', inputs: { inTransaction: true }, action: 'throw' },
  ])('$name', ({ inputs, action }) => {
    expect(afterFailure({ ...FIRST_FAILURE_ON_REPLICA, ...inputs })).toBe(action);
  });
});
