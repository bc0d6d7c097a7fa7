/**
 * How a processor's jobs read (GitLab's Sidekiq `data_consistency`):
 * - 'sticky': its reads see the writes of the context that enqueued it (its token): a replica
 *   that has replayed them, else the primary;
 * - 'always': its reads go to the primary;
 * - 'delayed': while no readable replica has replayed its token, the job is put back with a short
 *   delay (a bounded number of times) rather than read the primary; then it runs as 'sticky'.
 */
export type JobConsistencyMode = 'sticky' | 'always' | 'delayed';

export const JOB_CONSISTENCY_MODES: readonly JobConsistencyMode[] = ['sticky', 'always', 'delayed'];

/** What decides how a job starts. */
export interface JobStartInputs {
  consistency: JobConsistencyMode;
  /** The job carries a read-your-writes token. */
  hasToken: boolean;
  /** Times it was put back for its token already. */
  delays: number;
  maxDelays: number;
  /** Whether its reads would wait for a replica to replay its token; undefined: not asked yet. */
  waitsForReplay?: boolean;
}

/**
 * - 'primary': run with every set pinned ('always');
 * - 'token': run in a context with the job's token ('sticky', and 'delayed' once nothing is gained by waiting);
 * - 'ask': find out first whether its reads would wait for a replica (then call again with the answer);
 * - 'delay': put it back for later.
 */
export type JobStart = 'primary' | 'token' | 'ask' | 'delay';

export function jobStart({ consistency, hasToken, delays, maxDelays, waitsForReplay }: JobStartInputs): JobStart {
  if (consistency === 'always') return 'primary';
  if (consistency === 'sticky' || !hasToken || delays >= maxDelays) return 'token';
  if (waitsForReplay === undefined) return 'ask';
  return waitsForReplay ? 'delay' : 'token';
}

/** What BullMQ counts of a job's runs (attemptsStarted and stalledCounter are absent from older jobs). */
export interface JobAttempts {
  attemptsStarted?: number;
  attemptsMade: number;
  stalledCounter?: number;
}

/**
 * How often the job was put back with `moveToDelayed` already, without a count of our own in its
 * data: each start counts in attemptsStarted (this one included), each failure in attemptsMade,
 * each stall in stalledCounter, and a manual delay in none but the first. An unknown count is 0.
 */
export function delaysOf({ attemptsStarted, attemptsMade, stalledCounter }: JobAttempts): number {
  if (attemptsStarted === undefined) return 0;
  return Math.max(0, attemptsStarted - 1 - attemptsMade - (stalledCounter ?? 0));
}
