import { createHmac, randomBytes } from 'node:crypto';
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

describe('TokenSigner (sealed tokens)', () => {
  const signer = new TokenSigner(['new secret', 'old secret']);
  const payload = serializeToken(new Map([['default', { lsn: parseLsn('2A/16B3748'), expiresAt: now + 15_000 }]]));
  const good = signer.sign(payload);
  /** The token's sealed bytes with one of them changed. */
  const flipByte = (token: string, index: (length: number) => number) => {
    const bytes = Buffer.from(token.slice(3), 'base64url');
    bytes[index(bytes.length)] ^= 0x01;
    return `v1.${bytes.toString('base64url')}`;
  };
  /** The same bytes in other base64url text: the last character's unused low bit set (this payload leaves two unused). */
  const respelled = (token: string) => {
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    return token.slice(0, -1) + alphabet[alphabet.indexOf(token.at(-1)!) ^ 1];
  };
  /** The format before sealing: readable base64url JSON, then its HMAC. */
  const hmacToken = (secret: string, json: string) => {
    const body = Buffer.from(json).toString('base64url');
    return `${body}.${createHmac('sha256', secret).update(body).digest('base64url')}`;
  };

  it.each(['', '{"s":{}}', payload, 'x'.repeat(31), 'x'.repeat(32), 'x'.repeat(33), 'ends in NUL\0', 'ends in 0x80 byte \u0400', 'ünïcödé ✓'])(
    'round-trips %j',
    (text) => expect(signer.verify(signer.sign(text))).toBe(text),
  );

  it('rotation: opens a token sealed under an older secret; seals under the first secret only', () => {
    expect(signer.verify(new TokenSigner(['old secret']).sign(payload))).toBe(payload);
    expect(new TokenSigner(['new secret']).verify(good)).toBe(payload);
    expect(new TokenSigner(['old secret']).verify(good)).toBeUndefined();
  });

  it('seals the same payload differently each time (random IV)', () => expect(signer.sign(payload)).not.toBe(good));

  it.each<[string, () => unknown]>([
    ['an unknown secret', () => new TokenSigner(['wrong']).sign(payload)],
    ['a secret that only differs by case', () => new TokenSigner(['New secret']).sign(payload)],
    ['another version prefix', () => `v2${good.slice(2)}`],
    ['no version prefix', () => good.slice(3)],
    ['a tampered IV', () => flipByte(good, () => 0)],
    ['a tampered ciphertext', () => flipByte(good, () => 12)],
    ['a tampered tag', () => flipByte(good, (length) => length - 1)],
    ['a second spelling of the same bytes', () => respelled(good)],
    ['a stray character the decoder would skip', () => `${good.slice(0, 20)}.${good.slice(20)}`],
    ['a character appended', () => `${good}A`],
    ['the tag cut short', () => good.slice(0, -4)],
    ['the tag cut off', () => good.slice(0, -22)],
    ['only the prefix', () => 'v1.'],
    ['an oversized token', () => signer.sign('x'.repeat(MAX_TOKEN_LENGTH))],
    ['an oversized string', () => `v1.${'A'.repeat(MAX_TOKEN_LENGTH)}`],
    ['the old HMAC format, even with our secret', () => hmacToken('new secret', payload)],
    ['undefined', () => undefined],
    ['null', () => null],
    ['a number', () => 7],
    ['an object', () => ({ toString: () => good })],
    ['an array', () => [good]],
    ['a Buffer', () => Buffer.from(good)],
    ['an empty string', () => ''],
  ])('ignores %s', (_what, token) => expect(signer.verify(token())).toBeUndefined());

  it('the second spelling really is of the same bytes (so only the canonical-text check rejects it)', () => {
    expect(Buffer.from(respelled(good).slice(3), 'base64url')).toEqual(Buffer.from(good.slice(3), 'base64url'));
  });

  it('ignores every truncation and every single-byte change of a good token', () => {
    for (let length = 0; length < good.length; length++) expect(signer.verify(good.slice(0, length))).toBeUndefined();
    const bytes = Buffer.from(good.slice(3), 'base64url').length;
    for (let i = 0; i < bytes; i++) expect(signer.verify(flipByte(good, () => i))).toBeUndefined();
  });

  it('ignores random garbage, with and without the prefix', () => {
    for (let i = 0; i < 200; i++) {
      const junk = randomBytes(i).toString('base64url');
      expect(signer.verify(junk)).toBeUndefined();
      expect(signer.verify(`v1.${junk}`)).toBeUndefined();
    }
  });

  it("hides the payload: neither the LSN's text nor any base64 of the payload shows in the token", () => {
    const lsn = '2A/16B3748';
    expect(payload).toContain(lsn);
    const hidden = [lsn, '16B3748', payload, ...[0, 1, 2].map((skip) => Buffer.from(payload.slice(skip)).toString('base64url').slice(4, -4))];
    for (const text of hidden) {
      expect(good).not.toContain(text);
      expect(good.toLowerCase()).not.toContain(text.toLowerCase().slice(0, 12));
    }
    // The bytes after the IV are not the payload's either (the ciphertext is not a plain encoding).
    expect(Buffer.from(good.slice(3), 'base64url').includes(Buffer.from(lsn))).toBe(false);
  });

  it("hides how long the WAL position's text is: tokens for short and long LSNs weigh the same", () => {
    const lengths = ['0/1', '0/16B3748', 'FFFFFFFF/FFFFFFFF'].map(
      (lsn) => signer.sign(serializeToken(new Map([['default', { lsn: parseLsn(lsn), expiresAt: now + 15_000 }]]))).length,
    );
    expect(new Set(lengths).size).toBe(1);
  });

  it('is cookie- and header-safe: RFC 6265 cookie-octets and RFC 9110 token characters only', () => {
    for (let i = 0; i < 50; i++) expect(signer.sign(randomBytes(i).toString('latin1'))).toMatch(/^[A-Za-z0-9._-]+$/);
  });
});
