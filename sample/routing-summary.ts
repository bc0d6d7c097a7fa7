import type { RoutingStats } from '../lib/index.js';

/** `host:port` of every set's primary, to tell the primary from the replicas in the logs. */
export const PRIMARY_SERVERS = Symbol('PRIMARY_SERVERS');

/**
 * Where a context's queries went, from routing.stats(), in one phrase:
 * `replica 127.0.0.1:40013 ×1, primary 127.0.0.1:40011 ×1`; sets other than `default` are named.
 * `primaries`: `host:port` of every set's primary, to tell the primary from the replicas.
 */
export function routingSummary(stats: RoutingStats, primaries: readonly string[]): string {
  const parts: string[] = [];
  for (const [set, counts] of Object.entries(stats.sets)) {
    const prefix = set === 'default' ? '' : `${set} `;
    for (const [server, count] of Object.entries(counts.servers)) {
      parts.push(`${prefix}${primaries.includes(server) ? 'primary' : 'replica'} ${server} ×${count}`);
    }
    // A retry: a replica was unreachable, cancelled the read in a recovery conflict, or refused it as read-only.
    if (counts.retries > 0) parts.push(`${prefix}retried elsewhere ×${counts.retries}`);
    // A fallback: a read meant for a replica went to the primary, no replica being able to serve it.
    if (counts.fallbacks > 0) parts.push(`${prefix}fell back to the primary ×${counts.fallbacks}`);
  }
  return parts.length > 0 ? parts.join(', ') : 'no queries';
}
