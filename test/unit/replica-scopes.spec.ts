import { ContextState, innermostScope, type RoutingFrame, type ScopeOverride } from '../../lib/routing/context-state.js';
import type { ReplicaScopeOptions } from '../../lib/routing/replica-scope-options.js';

/** What a context remembers of @UseReplica per set, and which scope a frame's innermost is. */
describe('@UseReplica options per set (ContextState)', () => {
  it.each<{ name: string; applied: [string[], ReplicaScopeOptions][]; set: string; options: ReplicaScopeOptions | undefined }>([
    { name: 'never applied: none', applied: [], set: 'default', options: undefined },
    { name: 'no set named: every set, without options', applied: [[[], {}]], set: 'analytics', options: { maxLagMs: undefined, preventWrites: undefined } },
    { name: 'a set named: that set', applied: [[['analytics'], { maxLagMs: 200 }]], set: 'analytics', options: { maxLagMs: 200, preventWrites: undefined } },
    { name: 'a set named: not another', applied: [[['analytics'], { maxLagMs: 200 }]], set: 'default', options: undefined },
    {
      name: 'applied twice (two resolvers): the least maxLagMs',
      applied: [
        [['default'], { maxLagMs: 500 }],
        [['default'], { maxLagMs: 200 }],
      ],
      set: 'default',
      options: { maxLagMs: 200, preventWrites: undefined },
    },
    {
      name: 'applied twice: preventWrites if either asked',
      applied: [
        [['default'], { preventWrites: true }],
        [['default'], { preventWrites: false, maxLagMs: 100 }],
      ],
      set: 'default',
      options: { maxLagMs: 100, preventWrites: true },
    },
    {
      name: 'every set, then one named: the named one gets both',
      applied: [
        [[], { preventWrites: true }],
        [['default'], { maxLagMs: 300 }],
      ],
      set: 'default',
      options: { maxLagMs: 300, preventWrites: true },
    },
    {
      name: 'one named, then every set: the named one gets both',
      applied: [
        [['default'], { maxLagMs: 300 }],
        [[], { maxLagMs: 800, preventWrites: true }],
      ],
      set: 'default',
      options: { maxLagMs: 300, preventWrites: true },
    },
    {
      name: 'one named, then every set: another set has the every-set options',
      applied: [
        [['default'], { maxLagMs: 300 }],
        [[], { maxLagMs: 800 }],
      ],
      set: 'analytics',
      options: { maxLagMs: 800, preventWrites: undefined },
    },
  ])('$name', ({ applied, set, options }) => {
    const context = new ContextState();
    for (const [sets, given] of applied) context.useReplica(sets, given);
    expect(context.forcedReplicaOptions(set)).toEqual(options);
    expect(context.readsForcedToReplica(set)).toBe(options !== undefined);
  });
});

describe('innermostScope', () => {
  const context = new ContextState();
  const frame = (...overrides: ScopeOverride[]): RoutingFrame =>
    overrides.reduce<RoutingFrame>((parent, override) => ({ context, override, parent }), { context });
  const replicaWithin200: ScopeOverride = { target: 'replica', sets: ['default'], maxLagMs: 200, preventWrites: true };
  const plainReplica: ScopeOverride = { target: 'replica', sets: [] };
  const primaryForAnalytics: ScopeOverride = { target: 'primary', sets: ['analytics'] };

  it.each<{ name: string; frame: RoutingFrame; set: string; scope: ScopeOverride | undefined }>([
    { name: 'no scope: none', frame: frame(), set: 'default', scope: undefined },
    { name: 'one scope naming the set: it, with its options', frame: frame(replicaWithin200), set: 'default', scope: replicaWithin200 },
    { name: 'one scope naming another set: none', frame: frame(replicaWithin200), set: 'analytics', scope: undefined },
    { name: 'a plain useReplica inside one with options: the inner one', frame: frame(replicaWithin200, plainReplica), set: 'default', scope: plainReplica },
    { name: 'one with options inside a plain one: the inner one', frame: frame(plainReplica, replicaWithin200), set: 'default', scope: replicaWithin200 },
    {
      name: 'an inner scope for another set: the outer one naming the set',
      frame: frame(replicaWithin200, primaryForAnalytics),
      set: 'default',
      scope: replicaWithin200,
    },
  ])('$name', ({ frame, set, scope }) => {
    expect(innermostScope(frame, set)).toBe(scope);
  });
});
