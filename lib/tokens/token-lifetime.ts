import type { HealthOptions } from '../options/pin-db-module-options.js';

/**
 * How long a token entry lives, in seconds. Time mode: `pinSeconds`, the pin window. lsn mode: at
 * least `pinSeconds`, and long enough that every replica still allowed to serve reads has replayed
 * the write by the time the entry expires. A replica serves reads only while its time lag is at
 * most `maxLagSeconds` as of its last health check, and that check is at most one jittered
 * interval plus one check's time limit old: so a write committed longer ago than the sum has been
 * replayed by every readable replica, and a token that lived shorter would let a replica still
 * behind it serve its client.
 */
export function tokenLifetimeSeconds(
  consistency: 'lsn' | 'time',
  pinSeconds: number,
  health: Required<Pick<HealthOptions, 'maxLagSeconds' | 'intervalMs' | 'connectTimeoutMs'>>,
): number {
  if (consistency === 'time') return pinSeconds;
  const checkAgeSeconds = (health.intervalMs * 1.2 + health.connectTimeoutMs) / 1000;
  return Math.max(pinSeconds, Math.ceil(health.maxLagSeconds + checkAgeSeconds));
}
