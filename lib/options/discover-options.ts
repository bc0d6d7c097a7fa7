import { PinDbConfigError } from '../errors/pin-db-config.error.js';
import type { DnsDiscoveryOptions, ReplicaDiscoveryFunction } from './pin-db-module-options.js';

/** `sets.<name>.discover` once checked: a DNS name with its interval filled in, or the user's function. */
export type ResolvedDiscovery = { dns: string; port?: number; intervalMs: number } | ReplicaDiscoveryFunction;

/** A name resolved more often than this would load the resolver for no gain: replicas are not added by the second. */
export const MIN_DNS_INTERVAL_MS = 1000;
/** As GitLab's database load balancer re-resolves its replicas' name. */
export const DEFAULT_DNS_INTERVAL_MS = 60_000;

const DNS_KEYS = ['dns', 'port', 'intervalMs'] as const satisfies readonly (keyof DnsDiscoveryOptions)[];

/** Checks `sets.<name>.discover` at bootstrap; undefined: the set has only its configured replicas. */
export function resolveDiscover(input: unknown, where: string): ResolvedDiscovery | undefined {
  if (input === undefined) return undefined;
  if (typeof input === 'function') return input as ReplicaDiscoveryFunction;
  const example = `${where}: { dns: 'replicas.db.internal', port: 5432 } or ${where}: async () => [{ host: 'replica-1' }]`;
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new PinDbConfigError(
      `${where} must be { dns, port?, intervalMs? } or a function returning a promise of replicas (got ${JSON.stringify(input)}), e.g. ${example}.`,
    );
  }
  for (const key of Object.keys(input)) {
    if (!(DNS_KEYS as readonly string[]).includes(key)) {
      throw new PinDbConfigError(
        `Unknown option ${where}.${key}: discover by DNS has ${DNS_KEYS.join(', ')}; for anything else give a function, e.g. ${example}.`,
      );
    }
  }
  const { dns, port, intervalMs = DEFAULT_DNS_INTERVAL_MS } = input as DnsDiscoveryOptions;
  if (typeof dns !== 'string' || dns.trim() === '' || /[\s/:]/.test(dns)) {
    throw new PinDbConfigError(
      `${where}.dns must be a host name whose addresses are the set's replicas (got ${JSON.stringify(dns)}), e.g. dns: 'replicas.db.internal' (no scheme, port or path: the port goes in ${where}.port).`,
    );
  }
  if (port !== undefined && !(typeof port === 'number' && Number.isInteger(port) && port >= 1 && port <= 65535)) {
    throw new PinDbConfigError(`${where}.port must be a whole number from 1 to 65535 (got ${JSON.stringify(port)}), or left out for the primary's port.`);
  }
  if (typeof intervalMs !== 'number' || !Number.isFinite(intervalMs) || intervalMs < MIN_DNS_INTERVAL_MS) {
    throw new PinDbConfigError(
      `${where}.intervalMs must be a number of milliseconds ≥ ${MIN_DNS_INTERVAL_MS} (got ${JSON.stringify(intervalMs)}): how often the name is resolved again; the default is ${DEFAULT_DNS_INTERVAL_MS}.`,
    );
  }
  return { dns, ...(port !== undefined && { port }), intervalMs };
}
