/** How far a replica is behind its primary. */
export interface ReplicaLag {
  /** WAL bytes the replica has yet to replay; undefined when the primary's position is unknown (primary down). */
  lagBytes?: number;
  /** Seconds the replica's data is behind the primary's, at most; 0 when it has replayed all the primary was known to have written. */
  lagSeconds: number;
}

/** The primary's WAL position as a health check read it. */
export interface WalReading {
  /** pg_current_wal_lsn() */
  lsn: bigint;
  /**
   * Date.now() just before the primary was asked: by then it had written no further than `lsn`,
   * so a replica that has replayed `lsn` had all the primary had at that time.
   */
  at: number;
}

export interface LagSample {
  /** Date.now() when the replica answered. */
  now: number;
  /** The primary's recent readings, oldest first, positions increasing (see WalHistory). */
  history: readonly WalReading[];
  /** This round's reading of the primary; undefined if the primary did not answer. */
  primaryLsn?: bigint;
  replayLsn?: bigint;
  receiveLsn?: bigint;
  /** now() - pg_last_xact_replay_timestamp() on the replica, in seconds. */
  secondsSinceReplay?: number;
}

/**
 * A replica's lag, by bytes and by time, measured against the PRIMARY's position: a replica cut
 * off from the primary's WAL (its walreceiver stalled, its network cut) has replayed all it
 * received, yet serves data that gets older by the second.
 *
 * - At or past the primary's last known position: no time lag, however old its last replayed
 *   transaction (an idle primary writes none).
 * - Behind it: two upper bounds, and the lag is the smaller one.
 *   - Since the last reading of the primary at or below its replay position: it had all the
 *     primary had then, so it has been behind since that reading at most. That catches an idle
 *     primary's first write the replica lacks, within one health interval.
 *   - Since its last replayed transaction committed: the primary was in that state at that time.
 *     On a busy primary, with a replica milliseconds behind, this one is milliseconds.
 *   With no reading that low left in the history, it has been behind at least since the oldest.
 * - No reading of the primary yet (down since startup): only what the replica itself knows, WAL
 *   received and not yet replayed.
 * Without a new reading (the primary down), the history still says how far it was: a replica
 * that had not caught up with the last reading keeps lagging more.
 */
export function replicaLag({ now, history, primaryLsn, replayLsn, receiveLsn, secondsSinceReplay }: LagSample): ReplicaLag {
  const lagBytes = primaryLsn !== undefined && replayLsn !== undefined ? Number(primaryLsn > replayLsn ? primaryLsn - replayLsn : 0n) : undefined;
  const sinceReplay = secondsSinceReplay === undefined ? undefined : Math.max(0, secondsSinceReplay);
  const latest = history.at(-1);
  if (replayLsn === undefined) return { lagBytes, lagSeconds: 0 };
  if (!latest) {
    const receivedMore = receiveLsn !== undefined && replayLsn < receiveLsn;
    return { lagBytes, lagSeconds: receivedMore ? (sinceReplay ?? 0) : 0 };
  }
  if (replayLsn >= latest.lsn) return { lagBytes, lagSeconds: 0 };
  const covered = history.findLast((reading) => reading.lsn <= replayLsn);
  if (covered) return { lagBytes, lagSeconds: Math.min(seconds(now - covered.at), sinceReplay ?? Infinity) };
  return { lagBytes, lagSeconds: Math.max(seconds(now - history[0].at), sinceReplay ?? 0) };
}

/** Whether a lag keeps a replica out of the rotation. */
export function lagExceeds(lag: ReplicaLag, limits: { maxLagBytes: number; maxLagSeconds: number }): boolean {
  return (lag.lagBytes !== undefined && lag.lagBytes > limits.maxLagBytes) || lag.lagSeconds > limits.maxLagSeconds;
}

function seconds(ms: number): number {
  return Math.max(0, ms) / 1000;
}
