import { randomBytes } from 'node:crypto';
import { formatLsn, parseLsn } from '../../lib/tokens/lsn.js';
import { deserializeToken, mergeTokens, PinToken, serializeToken } from '../../lib/tokens/pin-token.js';
import { MAX_TOKEN_LENGTH, TokenSigner } from '../../lib/tokens/token-signer.js';

const sets = new Set(['default', 'analytics']);
const now = 1_800_000_000_000;

describe('LSN text', () => {
  it('orders positions as PostgreSQL does, across the high word', () => {
    expect(parseLsn('0/16B3748')! < parseLsn('0/16B3749')!).toBe(true);
    expect(parseLsn('0/FFFFFFFF')! < parseLsn('1/0')!).toBe(true);
    expect(formatLsn(parseLsn('2A/16B3748')!)).toBe('2A/16B3748');
  });

  it.each([undefined, 42, '', '0/', '/1', '0/1/2', 'G/1', '123456789/0', '0x1/2'])('rejects %p', (text) => expect(parseLsn(text)).toBeUndefined());
});

describe('token payloads', () => {
  const token: PinToken = new Map([
    ['default', { lsn: parseLsn('0/3000060'), expiresAt: now + 15_000 }],
    ['analytics', { expiresAt: now + 15_000 }],
  ]);

  it('round-trip', () => expect(deserializeToken(serializeToken(token), sets, now)).toEqual(token));

  it('leave out expired entries, unknown sets and malformed entries', () => {
    const json = JSON.stringify({ s: { default: ['0/1', now / 1000 - 1], analytics: ['zz', now / 1000 + 9], other: ['0/1', now / 1000 + 9] } });
    expect(deserializeToken(json, sets, now).size).toBe(0);
    for (const junk of ['null', '[]', '{"s":[1]}', '{"s":{"default":"x"}}', '{"s":{"default":[0,"soon"]}}', 'not json']) {
      expect(deserializeToken(junk, sets, now).size).toBe(0);
    }
  });

  it('merge to the later position and expiry per set', () => {
    const older: PinToken = new Map([['default', { lsn: parseLsn('0/10'), expiresAt: now + 20_000 }]]);
    const newer: PinToken = new Map([['default', { lsn: parseLsn('0/20'), expiresAt: now + 5_000 }]]);
    expect(mergeTokens(older, newer).get('default')).toEqual({ lsn: parseLsn('0/20'), expiresAt: now + 20_000 });
  });
});

describe('TokenSigner', () => {
  const signer = new TokenSigner(['new secret', 'old secret']);

  it('verifies what it signed, and a token signed with an older secret (rotation)', () => {
    expect(signer.verify(signer.sign('{"s":{}}'))).toBe('{"s":{}}');
    expect(signer.verify(new TokenSigner(['old secret']).sign('payload'))).toBe('payload');
    // New tokens are signed with the first secret only.
    expect(new TokenSigner(['old secret']).verify(signer.sign('payload'))).toBeUndefined();
  });

  it('rejects a token signed with an unknown secret, tampered, truncated or oversized', () => {
    const good = signer.sign('{"s":{"default":["0/1",9999999999]}}');
    expect(signer.verify(new TokenSigner(['wrong']).sign('{"s":{}}'))).toBeUndefined();
    expect(signer.verify(`x${good}`)).toBeUndefined();
    expect(signer.verify(good.slice(0, -2))).toBeUndefined();
    expect(signer.verify(`${good}.`)).toBeUndefined();
    expect(signer.verify(signer.sign('x'.repeat(MAX_TOKEN_LENGTH)))).toBeUndefined();
    for (const junk of [undefined, null, 7, {}, '', '.', 'a.', '.b']) expect(signer.verify(junk)).toBeUndefined();
    for (let i = 0; i < 200; i++) expect(signer.verify(randomBytes(i).toString('base64url'))).toBeUndefined();
  });
});
