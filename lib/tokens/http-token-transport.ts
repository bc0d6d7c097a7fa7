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

/** Express's response or Fastify's reply: the two are told apart by Fastify's `raw`. */
type HttpResponse = {
  headersSent?: boolean;
  raw?: { headersSent: boolean };
  header?: (name: string, value: string) => unknown;
  append?: (name: string, value: string) => unknown;
  setHeader?: (name: string, value: string) => unknown;
};

/**
 * Hands the client its new token (or, with `token` undefined, tells it to forget the old one).
 * `maxAgeSeconds` is the longest expiry in the token. Does nothing once the headers are sent.
 */
export function writeResponseToken(response: HttpResponse, options: ResolvedTokenOptions, token: string | undefined, maxAgeSeconds: number): void {
  const fastify = response.raw !== undefined && typeof response.header === 'function';
  if (fastify ? response.raw!.headersSent : response.headersSent) return;
  const setHeader = (name: string, value: string) => (fastify ? response.header!(name, value) : response.setHeader!(name, value));
  if (options.cookie) {
    const { name, secure, sameSite, path, domain } = options.cookie;
    const cookie = serialize(name, token ?? '', { httpOnly: true, secure, sameSite, path, domain, maxAge: token ? maxAgeSeconds : 0 });
    // Set-Cookie adds to those the app set: Fastify's header() appends it, Express needs append().
    if (fastify) response.header!('set-cookie', cookie);
    else response.append!('Set-Cookie', cookie);
  }
  if (options.header) setHeader(options.header, token ?? '');
}
