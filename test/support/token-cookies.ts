import type { INestApplicationContext } from '@nestjs/common';
import { ContextState } from '../../lib/routing/context-state.js';
import { PinDbRouter } from '../../lib/routing/pin-db.router.js';
import { deserializeToken, PinToken, SetToken } from '../../lib/tokens/pin-token.js';
import { TokenSigner } from '../../lib/tokens/token-signer.js';

/** The `pindb` Set-Cookie line a response carries, if any. */
export function pindbSetCookie(response: Response): string | undefined {
  return response.headers.getSetCookie().find((cookie) => cookie.startsWith('pindb='));
}

/** As in read-your-writes.spec.ts: the pindb cookie as `name=value` to send back, '' when the response clears it, undefined when it sets none. */
export function cookieFrom(response: Response): string | undefined {
  const set = pindbSetCookie(response);
  if (!set) return undefined;
  return /Max-Age=0/.test(set) ? '' : set.split(';')[0];
}

/** The Max-Age, in seconds, of a Set-Cookie line. */
export function maxAgeOf(setCookie: string): number | undefined {
  const match = /;\s*Max-Age=(\d+)/i.exec(setCookie);
  return match ? Number(match[1]) : undefined;
}

/** The signed token in a `pindb=…` cookie. */
export function tokenOf(cookie: string): string {
  return decodeURIComponent(cookie.slice(cookie.indexOf('=') + 1));
}

/** What a signed token says, as the app itself reads it (verified, unknown sets and expired entries left out). */
export function decodeToken(app: INestApplicationContext, signed: string): PinToken {
  const context = new ContextState();
  context.pendingTokens.push(signed);
  return app.get(PinDbRouter).tokens.accept(context);
}

/** What a signed token says as it was signed, without the clamps a server applies when it accepts one (undefined: it does not verify). */
export function signedToken(signed: string, secret: string, sets: readonly string[] = ['default']): PinToken | undefined {
  const payload = new TokenSigner([secret]).verify(signed);
  return payload === undefined ? undefined : deserializeToken(payload, new Set(sets));
}

/** A validly signed token, made with the app's own secret: what a client could bring back from an earlier response. */
export function signToken(app: INestApplicationContext, entry: SetToken, set = 'default'): string {
  return app.get(PinDbRouter).tokens.sign(new Map([[set, entry]]));
}

/** Resolves once `condition()` holds, checking every 20 ms (the test's timeout bounds the wait). */
export async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 20));
}
