import type { ServerResponse } from 'node:http';
import { parse, serialize } from 'cookie';
import type { PinRequest } from '../options/pin-db-module-options.js';
import type { ResolvedTokenOptions } from '../options/resolve-options.js';

/** The tokens a request carries: in the cookie and in the header, as configured. */
export function requestTokens(request: PinRequest, options: ResolvedTokenOptions): string[] {
  const tokens: string[] = [];
  if (options.cookie) {
    const header = request.headers.cookie;
    const value = typeof header === 'string' ? parse(header)[options.cookie.name] : undefined;
    if (value) tokens.push(value);
  }
  if (options.header) {
    const value = request.headers[options.header];
    if (typeof value === 'string' && value) tokens.push(value);
  }
  return tokens;
}

/**
 * Hands the client its new token (or, with `token` undefined, tells it to forget the old one), as
 * the response's headers are written: Node's response on Express and Fastify alike. `maxAgeSeconds`
 * is the longest expiry in the token. Set-Cookie adds to the cookies the app set.
 */
export function writeResponseToken(response: ServerResponse, options: ResolvedTokenOptions, token: string | undefined, maxAgeSeconds: number): void {
  if (options.cookie) {
    const { name, secure, sameSite, path, domain } = options.cookie;
    response.appendHeader('Set-Cookie', serialize(name, token ?? '', { httpOnly: true, secure, sameSite, path, domain, maxAge: token ? maxAgeSeconds : 0 }));
  }
  if (options.header) response.setHeader(options.header, token ?? '');
}
