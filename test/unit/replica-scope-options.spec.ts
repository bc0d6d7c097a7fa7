import { PinDbConfigError } from '../../lib/index.js';
import { replicaScopeArgs, type ReplicaScopeArgs } from '../../lib/routing/replica-scope-options.js';

/** The arguments of @UseReplica(...) / routing.useReplica(fn, ...) after fn, both forms. */
describe('replicaScopeArgs', () => {
  it.each<{ name: string; args: unknown[]; parsed: ReplicaScopeArgs }>([
    { name: 'nothing: every set, no options', args: [], parsed: { sets: [] } },
    { name: 'set names (the ...sets form)', args: ['default', 'analytics'], parsed: { sets: ['default', 'analytics'] } },
    { name: 'an empty options object: every set', args: [{}], parsed: { sets: [], maxLagMs: undefined, preventWrites: undefined } },
    {
      name: 'every option',
      args: [{ sets: ['analytics'], maxLagMs: 200, preventWrites: true }],
      parsed: { sets: ['analytics'], maxLagMs: 200, preventWrites: true },
    },
    { name: 'maxLagMs 0 (only replicas with no lag)', args: [{ maxLagMs: 0 }], parsed: { sets: [], maxLagMs: 0, preventWrites: undefined } },
    { name: 'preventWrites false', args: [{ preventWrites: false }], parsed: { sets: [], maxLagMs: undefined, preventWrites: false } },
    { name: 'sets: [] (every set)', args: [{ sets: [] }], parsed: { sets: [], maxLagMs: undefined, preventWrites: undefined } },
  ])('$name', ({ args, parsed }) => {
    expect(replicaScopeArgs('@UseReplica(...)', args)).toEqual(parsed);
  });

  it("copies the sets: a later change to the caller's array changes nothing", () => {
    const sets = ['default'];
    const parsed = replicaScopeArgs('@UseReplica(...)', [{ sets }]);
    sets.push('analytics');
    expect(parsed.sets).toEqual(['default']);
  });

  it.each<{ name: string; args: unknown[]; message: RegExp }>([
    { name: 'maxLagMs below 0', args: [{ maxLagMs: -1 }], message: /maxLagMs must be a number of milliseconds ≥ 0 \(got -1\), e\.g\. \{ maxLagMs: 500 \}/ },
    { name: 'maxLagMs as a string', args: [{ maxLagMs: '200' }], message: /maxLagMs must be a number of milliseconds ≥ 0 \(got "200"\)/ },
    { name: 'maxLagMs NaN', args: [{ maxLagMs: NaN }], message: /maxLagMs must be a number/ },
    { name: 'maxLagMs Infinity', args: [{ maxLagMs: Infinity }], message: /maxLagMs must be a number/ },
    { name: 'preventWrites not a boolean', args: [{ preventWrites: 'yes' }], message: /preventWrites must be true or false \(got "yes"\)/ },
    {
      name: 'sets not a list',
      args: [{ sets: 'analytics' }],
      message: /sets must be a list of set names, e\.g\. \{ sets: \['analytics'\] \} \(got "analytics"\)/,
    },
    { name: 'a set name that is not a string', args: [{ sets: ['default', 7] }], message: /sets must be a list of set names/ },
    { name: 'an empty set name', args: [{ sets: [''] }], message: /sets must be a list of set names/ },
    { name: 'an unknown option (a typo)', args: [{ maxLag: 200 }], message: /unknown option "maxLag"; the options are sets, maxLagMs, preventWrites/ },
    { name: 'options followed by set names', args: [{ maxLagMs: 200 }, 'analytics'], message: /an options object is the only argument; name the sets in it/ },
    { name: 'an array of sets', args: [['default']], message: /give the sets as separate arguments or as \{ sets: \[\.\.\.\] \}, not as an array/ },
    {
      name: 'a set name that is a number',
      args: ['default', 3],
      message: /takes set names \(strings\) or one options object \{ sets, maxLagMs, preventWrites \} \(got 3\)/,
    },
    { name: 'null', args: [null], message: /takes set names \(strings\) or one options object/ },
  ])('rejects $name with a PinDbConfigError naming the call', ({ args, message }) => {
    let error: unknown;
    try {
      replicaScopeArgs('routing.useReplica(fn, ...)', args);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(PinDbConfigError);
    expect((error as Error).message).toMatch(/^routing\.useReplica\(fn, \.\.\.\): /);
    expect((error as Error).message).toMatch(message);
  });
});
