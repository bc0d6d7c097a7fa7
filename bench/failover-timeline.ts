/**
 * bench/failover.ts's time series: per second of the run, how many requests sent in it succeeded
 * and how many failed, for the chart of a fault over time (bench/charts.ts). A request counts in
 * the second it was sent in, as it counts in the phase it was sent in (bench/failover-phases.ts).
 */
import type { RequestRecord } from './failover-load.js';

export interface SecondBucket {
  /** Seconds since the load's t0: the bucket holds the requests sent in [second, second + 1). */
  second: number;
  ok: number;
  failed: number;
}

/** One bucket per second from 0 to the last request sent (warm-up excluded), empty seconds included. */
export function perSecond(records: RequestRecord[]): SecondBucket[] {
  const buckets: SecondBucket[] = [];
  for (const record of records) {
    if (record.start < 0) continue;
    const second = Math.floor(record.start / 1000);
    for (let s = buckets.length; s <= second; s++) buckets.push({ second: s, ok: 0, failed: 0 });
    if (record.error === undefined) buckets[second].ok++;
    else buckets[second].failed++;
  }
  return buckets;
}
