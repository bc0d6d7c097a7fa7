import { resolvePinDbOptions } from '../../lib/options/resolve-options.js';
import { ContextState } from '../../lib/routing/context-state.js';
import { PinTokens, TokenSetSource } from '../../lib/tokens/pin-tokens.js';

const options = resolvePinDbOptions({ sets: { default: { primary: { host: '127.0.0.1' } } }, cookie: { secret: 'a secret long enough' } });

function source({ primaryLsn = async () => 42n, lastLsn = undefined as bigint | undefined } = {}): TokenSetSource {
  return { name: 'default', primary: { lastLsn }, primaryLsn, caughtUpEverywhere: () => false };
}

/** A context pinned on 'default', with what it wrote. */
function pinned(wrote?: { committedLsn?: bigint; uncertain?: boolean }): ContextState {
  const context = new ContextState();
  context.pin(['default']);
  if (wrote) Object.assign(context.writesOf('default'), wrote);
  return context;
}

describe('PinTokens.outgoing: the entry a context that pinned a set hands out', () => {
  it.each([
    ['a commit whose position was read: that position', { committedLsn: 100n }, { lastLsn: 500n }, 100n],
    ['a write whose position is unknown (its connection broke): a pin by time', { uncertain: true }, { lastLsn: 500n }, undefined],
    ["a pin without a write, not prepared: the primary's last position seen", undefined, { lastLsn: 500n }, 500n],
  ] as const)('%s', (_name, wrote, primary, lsn) => {
    const token = new PinTokens(options, [source(primary)]).outgoing(pinned(wrote));
    expect(token.has('default')).toBe(true);
    expect(token.get('default')!.lsn).toBe(lsn);
  });

  it('a pin without a write whose position was never seen hands out nothing: nothing was written that the client could miss', () => {
    expect(new PinTokens(options, [source()]).outgoing(pinned()).size).toBe(0);
  });

  it("prepare() reads the primary's position for a set pinned without a write, once", async () => {
    let reads = 0;
    const tokens = new PinTokens(options, [source({ primaryLsn: async () => (reads++, 42n) })]);
    const context = pinned();
    expect(tokens.needsPositions(context)).toBe(true);
    await tokens.prepare(context);
    await tokens.prepare(context);
    expect(reads).toBe(1);
    expect(tokens.needsPositions(context)).toBe(false);
    expect(tokens.outgoing(context).get('default')).toMatchObject({ lsn: 42n });
  });

  it('when the primary cannot give its position for a pin without a write (it is down), the token has no entry: no pin to a dead primary', async () => {
    const tokens = new PinTokens(options, [source({ primaryLsn: () => Promise.reject(new Error('connect ECONNREFUSED')), lastLsn: 7n })]);
    const context = pinned();
    await tokens.prepare(context);
    expect(tokens.outgoing(context).size).toBe(0);
  });

  it('a new commit replaces the position the client brought, even a later one: a signed position ahead of the primary is not signed again forever', () => {
    const tokens = new PinTokens(options, [source()]);
    const earlier = pinned({ committedLsn: 1_000_000n });
    const brought = tokens.sign(tokens.outgoing(earlier));
    const context = pinned({ committedLsn: 200n });
    context.pendingTokens.push(brought);
    expect(tokens.outgoing(context).get('default')!.lsn).toBe(200n);
  });
});

describe('PinTokens.accept', () => {
  it('hands out an opaque token that a later context accepts back to the same WAL position; a tampered one is ignored', () => {
    const tokens = new PinTokens(options, [source()]);
    const text = tokens.sign(tokens.outgoing(pinned({ committedLsn: 0x2a_016b3748n })));
    expect(text).toMatch(/^v1\.[A-Za-z0-9_-]+$/);
    expect(text).not.toContain('16B3748');

    const reader = new ContextState();
    reader.pendingTokens.push(text, text.slice(0, -2) + (text.endsWith('AA') ? 'BB' : 'AA'));
    expect(tokens.accept(reader).get('default')).toMatchObject({ lsn: 0x2a_016b3748n });
    expect(reader.stats.snapshot().ignoredTokens).toBe(1);
  });

  it('brings an expiry further away than this server gives back to its token lifetime', () => {
    const tokens = new PinTokens(options, [source()]);
    const years = tokens.sign(new Map([['default', { lsn: 5n, expiresAt: Date.now() + 10 * 365 * 86_400_000 }]]));
    const context = new ContextState();
    context.pendingTokens.push(years);
    const before = Date.now();
    const { expiresAt } = tokens.accept(context).get('default')!;
    expect(expiresAt).toBeLessThanOrEqual(Date.now() + tokens.lifetimeMs);
    expect(expiresAt).toBeGreaterThanOrEqual(before + tokens.lifetimeMs - 1000);
  });
});
