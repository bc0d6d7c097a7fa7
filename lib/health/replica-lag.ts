/** How far a replica is behind its primary. */
export interface ReplicaLag {
  /** WAL bytes the replica has yet to replay; undefined when the primary's position is unknown (primary down). */
  lagBytes?: number;
  /** Seconds since the last transaction it replayed was committed, counted only while it is behind. */
  lagSeconds: number;
}

export interface LagSample {
  /** The primary's pg_current_wal_lsn(), read just before the replica was asked; undefined if the primary did not answer. */
  primaryLsn?: bigint;
  replayLsn?: bigint;
  receiveLsn?: bigint;
  /** now() - pg_last_xact_replay_timestamp() on the replica, in seconds. */
  secondsSinceReplay?: number;
  /** Seconds since a check last found the replica caught up, if one has. */
  secondsSinceCaughtUp?: number;
}

/**
 * A replica's lag, by bytes and by time. Time since the last replayed transaction alone misleads
 * when the primary is idle: nothing new to replay looks like a growing lag. So, as GitLab does, a
 * replica that has replayed all it has received, or all the primary has written, has no time lag;
 * and one that a check found caught up is at most the time since then behind. (One that stopped
 * receiving falls behind in bytes instead.)
 */
export function replicaLag({ primaryLsn, replayLsn, receiveLsn, secondsSinceReplay, secondsSinceCaughtUp }: LagSample): ReplicaLag {
  const lagBytes = primaryLsn !== undefined && replayLsn !== undefined ? Number(primaryLsn > replayLsn ? primaryLsn - replayLsn : 0n) : undefined;
  const replayedAllReceived = replayLsn !== undefined && receiveLsn !== undefined && replayLsn >= receiveLsn;
  if (lagBytes === 0 || replayedAllReceived) return { lagBytes, lagSeconds: 0 };
  // The last replayed transaction may be old because the primary was quiet before the first one
  // not yet replayed: a replica caught up at the last check is at most that far behind.
  return { lagBytes, lagSeconds: Math.max(0, Math.min(secondsSinceReplay ?? 0, secondsSinceCaughtUp ?? Infinity)) };
}

/** Whether a lag keeps a replica out of the rotation. */
export function lagExceeds(lag: ReplicaLag, limits: { maxLagBytes: number; maxLagSeconds: number }): boolean {
  return (lag.lagBytes !== undefined && lag.lagBytes > limits.maxLagBytes) || lag.lagSeconds > limits.maxLagSeconds;
}
