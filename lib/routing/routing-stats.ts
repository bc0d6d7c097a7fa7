export type ServerRole = 'primary' | 'replica';

/** One set's queries in a context. */
export interface SetStats {
  /** Statements sent to the primary. */
  primary: number;
  /** Statements sent to a replica. */
  replica: number;
  /** Statements by server, keyed `host:port`. */
  servers: Record<string, number>;
  /** Statements sent again on another server: a replica was unreachable, cancelled them in a recovery conflict, or refused them as read-only. */
  retries: number;
  /** Reads meant for a replica that went to the primary because no replica could serve them (down, lagging or promoted). */
  fallbacks: number;
  /** Waits for a replica to replay the client's token (replayWaitMs): at most one per context and set. */
  replayWaits: number;
  /** Milliseconds those waits took, in all. */
  replayWaitMs: number;
}

/** A context's queries, by set and by server: "if you track one metric, track query count". */
export interface RoutingStats {
  queries: number;
  sets: Record<string, SetStats>;
  /** Tokens from the client that were forged, expired, malformed or oversized, and ignored. */
  ignoredTokens: number;
}

export class RoutingStatsCollector {
  private queries = 0;
  private ignoredTokens = 0;
  private readonly sets: Record<string, SetStats> = {};

  query(set: string, role: ServerRole, server: string): void {
    const stats = this.forSet(set);
    this.queries++;
    stats[role]++;
    stats.servers[server] = (stats.servers[server] ?? 0) + 1;
  }

  ignoredToken(): void {
    this.ignoredTokens++;
  }

  retry(set: string): void {
    this.forSet(set).retries++;
  }

  fallback(set: string): void {
    this.forSet(set).fallbacks++;
  }

  replayWait(set: string, ms: number): void {
    const stats = this.forSet(set);
    stats.replayWaits++;
    stats.replayWaitMs += ms;
  }

  snapshot(): RoutingStats {
    const sets: Record<string, SetStats> = {};
    for (const [name, stats] of Object.entries(this.sets)) sets[name] = { ...stats, servers: { ...stats.servers } };
    return { queries: this.queries, sets, ignoredTokens: this.ignoredTokens };
  }

  private forSet(set: string): SetStats {
    return (this.sets[set] ??= { primary: 0, replica: 0, servers: {}, retries: 0, fallbacks: 0, replayWaits: 0, replayWaitMs: 0 });
  }
}
