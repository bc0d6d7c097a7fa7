import { createHmac, timingSafeEqual } from 'node:crypto';

/** The most a token may weigh on the wire; anything longer is ignored unread. */
export const MAX_TOKEN_LENGTH = 4096;

/**
 * Signs tokens with HMAC-SHA256 over the first secret, and accepts a token signed with any of the
 * secrets: rotate by putting the new secret first and dropping the old one after pinSeconds.
 */
export class TokenSigner {
  constructor(private readonly secrets: readonly string[]) {}

  sign(payload: string): string {
    const body = Buffer.from(payload).toString('base64url');
    return `${body}.${this.mac(this.secrets[0], body)}`;
  }

  /** The payload of a well-signed token, else undefined (never throws on client input). */
  verify(token: unknown): string | undefined {
    if (typeof token !== 'string' || token.length > MAX_TOKEN_LENGTH) return undefined;
    const dot = token.indexOf('.');
    if (dot <= 0) return undefined;
    const body = token.slice(0, dot);
    // The MAC's text is compared, not its decoded bytes: base64url decoding skips stray characters.
    const given = Buffer.from(token.slice(dot + 1));
    for (const secret of this.secrets) {
      const expected = Buffer.from(this.mac(secret, body));
      if (given.length === expected.length && timingSafeEqual(given, expected)) return Buffer.from(body, 'base64url').toString('utf8');
    }
    return undefined;
  }

  private mac(secret: string, body: string): string {
    return createHmac('sha256', secret).update(body).digest('base64url');
  }
}
