/** What a round of health checks read of one server of a set, as far as promotion is concerned. */
export interface PromotionReading<T> {
  server: T;
  /** It answered its check this round. */
  reachable: boolean;
  /** pg_is_in_recovery(); undefined: not read. */
  inRecovery?: boolean;
  /** Its timeline (pg_control_checkpoint()'s timeline_id); undefined: not read. */
  timeline?: number;
}

/** Which server the set's writes follow now, if any. */
export type PromotionVerdict<T> =
  | { readonly kind: 'none' }
  | { readonly kind: 'promoted'; readonly server: T; readonly timeline: number }
  /** Several servers left recovery on the same, newest timeline: each may hold writes the others lack. */
  | { readonly kind: 'ambiguous'; readonly servers: readonly T[]; readonly timeline: number };

const NONE = { kind: 'none' } as const;

/**
 * The server a set's writes go to once its primary is lost: one that answered, is out of recovery,
 * and is on a newer timeline than the primary had (`primaryTimeline`, read while it was healthy).
 * A server out of recovery on the same or an older timeline is no successor (a standalone server,
 * or the old primary itself), and without the primary's timeline nothing is newer. The newest
 * timeline wins; two servers on it are a split brain between them, and neither is written to.
 */
export function promotionCandidate<T>(primaryTimeline: number | undefined, readings: readonly PromotionReading<T>[]): PromotionVerdict<T> {
  if (primaryTimeline === undefined) return NONE;
  let timeline = primaryTimeline;
  let servers: T[] = [];
  for (const reading of readings) {
    if (!reading.reachable || reading.inRecovery !== false || reading.timeline === undefined || reading.timeline <= primaryTimeline) continue;
    if (reading.timeline > timeline) {
      timeline = reading.timeline;
      servers = [reading.server];
    } else if (reading.timeline === timeline) {
      servers.push(reading.server);
    }
  }
  if (servers.length === 0) return NONE;
  return servers.length === 1 ? { kind: 'promoted', server: servers[0], timeline } : { kind: 'ambiguous', servers, timeline };
}

/**
 * After a followed promotion, a replica serves reads only on the primary's timeline or a newer one:
 * one still on the old timeline follows the old primary (or nothing), and has what the new one lost,
 * or lacks what it has. Its timeline unknown: it waits until a check reads it.
 */
export function onPrimaryTimeline(replicaTimeline: number | undefined, primaryTimeline: number): boolean {
  return replicaTimeline !== undefined && replicaTimeline >= primaryTimeline;
}
