import { createHash } from 'node:crypto';
import type { PinRequest } from '../options/pin-db-module-options.js';

/**
 * A key for clients that send no cookie and have no user id, as django-multidb-router keys its
 * cookieless clients: a short hash (SHA-256, base64url, 22 characters) of the client's IP address,
 * User-Agent and Accept-Language. Use it as `clientKey: fingerprint`, or as a fallback:
 * `clientKey: (req) => req.user?.id ?? fingerprint(req)`.
 *
 * The IP address is the framework's `req.ip`, on Express and Fastify alike, so it follows their
 * trust-proxy settings: behind a proxy or load balancer, tell the framework to trust it
 * (`app.set('trust proxy', …)` on Express, `new FastifyAdapter({ trustProxy: … })`), or every
 * client gets the proxy's address. X-Forwarded-For is never read directly: any client can send it.
 *
 * Two clients with the same fingerprint (one NAT, one browser build) share a key: each then also
 * reads from the primary after the other's writes. That costs primary reads, never stale data.
 * Returns undefined (no stored token) for a request that has none of the three.
 */
export function fingerprint(request: PinRequest): string | undefined {
  const parts = [clientAddress(request), header(request, 'user-agent'), header(request, 'accept-language')];
  if (parts.every((part) => part === '')) return undefined;
  return createHash('sha256').update(parts.join('\n')).digest('base64url').slice(0, 22);
}

function clientAddress(request: PinRequest): string {
  // Express and Fastify both give req.ip, after their trust-proxy rules; the socket is the fallback
  // for other adapters (Fastify keeps Node's request as req.raw).
  const address =
    typeof request.ip === 'string' && request.ip !== '' ? request.ip : (request.socket?.remoteAddress ?? request.raw?.socket?.remoteAddress ?? '');
  // One client on a dual-stack socket may appear as 1.2.3.4 or ::ffff:1.2.3.4.
  return String(address).replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/i, '');
}

function header(request: PinRequest, name: string): string {
  const value = request.headers[name];
  return Array.isArray(value) ? value.join(', ') : (value ?? '');
}
