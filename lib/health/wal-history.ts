import type { WalReading } from './replica-lag.js';

/**
 * The primary's recent WAL positions, as the health checks read them: what a replica's time lag
 * is measured against (see replicaLag). Only the health checks' readings go in: they are the
 * written position (pg_current_wal_lsn), which a caught-up replica's replay position equals.
 *
 * Readings at the same position keep only the latest time: an idle primary makes one entry, not
 * one a round. Entries are kept for `retainMs` (at least one older than that stays, so a replica
 * behind by less than `retainMs` always finds the reading it had caught up with), and at most
 * `maxEntries`.
 */
export class WalHistory {
  private readonly entries: WalReading[] = [];

  constructor(
    private readonly retainMs: number,
    private readonly maxEntries = 256,
  ) {}

  get readings(): readonly WalReading[] {
    return this.entries;
  }

  record(lsn: bigint, at: number): void {
    const last = this.entries.at(-1);
    if (last && lsn < last.lsn) {
      // Behind what it said before: not the same server (restored, or another one took its
      // address). Its past positions say nothing about this one.
      this.entries.length = 0;
    }
    if (last?.lsn === lsn) this.entries[this.entries.length - 1] = { lsn, at };
    else this.entries.push({ lsn, at });
    while (this.entries.length > 1 && (this.entries.length > this.maxEntries || at - this.entries[1].at > this.retainMs)) this.entries.shift();
  }
}
