export type ServerRole = 'primary' | 'replica';

/** One set's queries in a context. */
export interface SetStats {
  /** Statements sent to the primary. */
  primary: number;
  /** Statements sent to a replica. */
  replica: number;
  /** Statements by server, keyed `host:port`. */
  servers: Record<string, number>;
  /** Statements sent again on another server after a replica refused them. */
  retries: number;
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

  snapshot(): RoutingStats {
    const sets: Record<string, SetStats> = {};
    for (const [name, stats] of Object.entries(this.sets)) sets[name] = { ...stats, servers: { ...stats.servers } };
    return { queries: this.queries, sets, ignoredTokens: this.ignoredTokens };
  }

  private forSet(set: string): SetStats {
    return (this.sets[set] ??= { primary: 0, replica: 0, servers: {}, retries: 0 });
  }
}
