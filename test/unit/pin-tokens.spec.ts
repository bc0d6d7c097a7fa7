import { resolvePinDbOptions } from '../../lib/options/resolve-options.js';
import { ContextState } from '../../lib/routing/context-state.js';
import { PinTokens, TokenSetSource } from '../../lib/tokens/pin-tokens.js';

const options = resolvePinDbOptions({ sets: { default: { primary: { host: '127.0.0.1' } } }, cookie: { secret: 'a secret long enough' } });

const source = (primaryLsn: () => Promise<bigint>): TokenSetSource => ({ name: 'default', primaryLsn, caughtUpEverywhere: () => false });

describe('PinTokens.outgoing', () => {
  it("a context that pinned a set gets the primary's WAL position in its token", async () => {
    const context = new ContextState();
    context.pin(['default']);
    const token = await new PinTokens(options, [source(async () => 42n)]).outgoing(context);
    expect(token.get('default')).toMatchObject({ lsn: 42n });
  });

  it('when the primary cannot give its position (down after the write), the entry pins by time instead of failing the request', async () => {
    const context = new ContextState();
    context.pin(['default']);
    const before = Date.now();
    const token = await new PinTokens(options, [source(() => Promise.reject(new Error('connect ECONNREFUSED')))]).outgoing(context);
    const entry = token.get('default')!;
    expect(entry.lsn).toBeUndefined();
    expect(entry.expiresAt).toBeGreaterThanOrEqual(before + options.pinSeconds * 1000);
  });
});
