import type { Counter } from 'prom-client';
import type { MetricsRegistry } from '../options/pin-db-module-options.js';
import type { RoutingObserver } from '../routing/routing-events.js';
import type { ServerRole } from '../routing/routing-stats.js';
import type { PromClientModule } from './prom-client.js';
import { ReplayWaitHistogram } from './replay-wait-histogram.js';
import { AttachedMetric, attachCounter } from './shared-metric.js';

/** What one series counted since the last scrape. */
interface Tally<L> {
  labels: L;
  pending: number;
}

type StatementLabels = { set: string; role: ServerRole; server: string };

/** A set's servers, known at bootstrap. */
export interface KnownSet {
  set: string;
  primary: string;
  replicas: string[];
}

/**
 * The routing counters. Routing reports every statement, so the hot path only bumps a number in a
 * tally found by two Map lookups (set, then server), with no string built and no prom-client call:
 * prom-client's `inc(labels)` hashes the labels on each call. The tallies go into the counters
 * when Prometheus scrapes (each counter's collect), so nothing runs when nobody scrapes.
 */
export class RoutingCounters implements RoutingObserver {
  private readonly statements: Record<ServerRole, Map<string, Map<string, Tally<StatementLabels>>>> = { primary: new Map(), replica: new Map() };
  private readonly retries = new Map<string, Tally<{ set: string }>>();
  private readonly fallbacks = new Map<string, Tally<{ set: string }>>();
  private tokensIssued = 0;
  private tokensIgnored = 0;
  private readonly attached: AttachedMetric<Counter>[];
  private readonly replayWaits: ReplayWaitHistogram;

  constructor(prom: PromClientModule, registry: MetricsRegistry, prefix: string, known: KnownSet[]) {
    this.replayWaits = new ReplayWaitHistogram(
      prom,
      registry,
      prefix,
      known.map(({ set }) => set),
    );
    this.attached = [
      attachCounter(
        prom,
        registry,
        {
          name: `${prefix}statements_total`,
          help: 'Statements sent, by database set, server role (primary or replica) and server (host:port).',
          labelNames: ['set', 'role', 'server'],
        },
        (counter) =>
          this.flush(
            counter,
            [...this.statements.primary.values(), ...this.statements.replica.values()].flatMap((servers) => [...servers.values()]),
          ),
      ),
      attachCounter(
        prom,
        registry,
        {
          name: `${prefix}retries_total`,
          help: 'Statements sent again on another server: a replica was unreachable, cancelled them in a recovery conflict, or refused them as read-only.',
          labelNames: ['set'],
        },
        (counter) => this.flush(counter, this.retries.values()),
      ),
      attachCounter(
        prom,
        registry,
        {
          name: `${prefix}fallbacks_total`,
          help: 'Reads meant for a replica that went to the primary because no replica could serve them.',
          labelNames: ['set'],
        },
        (counter) => this.flush(counter, this.fallbacks.values()),
      ),
      attachCounter(
        prom,
        registry,
        { name: `${prefix}tokens_issued_total`, help: 'Read-your-writes tokens signed and handed out (responses and routing.token()).', labelNames: [] },
        (counter) => {
          if (this.tokensIssued > 0) counter.inc(this.tokensIssued);
          this.tokensIssued = 0;
        },
      ),
      attachCounter(
        prom,
        registry,
        {
          name: `${prefix}tokens_ignored_total`,
          help: 'Tokens from clients that were forged, expired, malformed, oversized or wrongly signed, and ignored.',
          labelNames: [],
        },
        (counter) => {
          if (this.tokensIgnored > 0) counter.inc(this.tokensIgnored);
          this.tokensIgnored = 0;
        },
      ),
    ];
    // Every series exists from the start, at 0: Prometheus's rate() misses the first increase of a
    // series that appears with it.
    const [statements, retries, fallbacks] = this.attached.map((attached) => attached.metric);
    for (const { set, primary, replicas } of known) {
      statements.inc(this.newStatementTally(set, 'primary', primary).labels, 0);
      for (const replica of replicas) statements.inc(this.newStatementTally(set, 'replica', replica).labels, 0);
      retries.inc({ set }, 0);
      fallbacks.inc({ set }, 0);
    }
  }

  query(set: string, role: ServerRole, server: string): void {
    const tally = this.statements[role].get(set)?.get(server) ?? this.newStatementTally(set, role, server);
    tally.pending++;
  }

  retry(set: string): void {
    bump(this.retries, set);
  }

  fallback(set: string): void {
    bump(this.fallbacks, set);
  }

  replayWait(set: string, outcome: 'replica' | 'primary', seconds: number): void {
    this.replayWaits.observe(set, outcome, seconds);
  }

  tokenIssued(): void {
    this.tokensIssued++;
  }

  tokenIgnored(): void {
    this.tokensIgnored++;
  }

  /** Hands what was counted since the last scrape to the counters that other apps still share, then lets go of them. */
  close(): void {
    for (const attached of this.attached) attached.detach();
    this.replayWaits.close();
  }

  private newStatementTally(set: string, role: ServerRole, server: string): Tally<StatementLabels> {
    let servers = this.statements[role].get(set);
    if (!servers) this.statements[role].set(set, (servers = new Map()));
    const tally = { labels: { set, role, server }, pending: 0 };
    servers.set(server, tally);
    return tally;
  }

  private flush<L extends Record<string, string>>(counter: Counter, tallies: Iterable<Tally<L>>): void {
    for (const tally of tallies) {
      if (tally.pending === 0) continue;
      counter.inc(tally.labels, tally.pending);
      tally.pending = 0;
    }
  }
}

function bump(tallies: Map<string, Tally<{ set: string }>>, set: string): void {
  let tally = tallies.get(set);
  if (!tally) tallies.set(set, (tally = { labels: { set }, pending: 0 }));
  tally.pending++;
}
