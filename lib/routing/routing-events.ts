import type { ServerRole } from './routing-stats.js';

/** What happens in routing, for an observer such as the Prometheus metrics. */
export interface RoutingObserver {
  /** A statement was sent to `server` of `set`. */
  query(set: string, role: ServerRole, server: string): void;
  /** A statement of `set` ran again elsewhere: a replica was unreachable, in a recovery conflict, or read-only. */
  retry(set: string): void;
  /** A read of `set` meant for a replica went to the primary: no replica could serve it. */
  fallback(set: string): void;
  /** A read of `set` waited `seconds` for a replica to replay its token (replayWaitMs), then went to a replica or the primary. */
  replayWait(set: string, outcome: 'replica' | 'primary', seconds: number): void;
  /** A signed token was handed out (response, or routing.token()). */
  tokenIssued(): void;
  /** A token from a client was ignored (forged, expired, malformed, oversized, wrongly signed). */
  tokenIgnored(): void;
}

/**
 * The router's side of the observer: forwards each event to the observer, if one is set. Routing
 * calls it for every statement, so without an observer each call is one check.
 */
export class RoutingEvents implements RoutingObserver {
  private observer?: RoutingObserver;

  observe(observer: RoutingObserver | undefined): void {
    this.observer = observer;
  }

  query(set: string, role: ServerRole, server: string): void {
    this.observer?.query(set, role, server);
  }

  retry(set: string): void {
    this.observer?.retry(set);
  }

  fallback(set: string): void {
    this.observer?.fallback(set);
  }

  replayWait(set: string, outcome: 'replica' | 'primary', seconds: number): void {
    this.observer?.replayWait(set, outcome, seconds);
  }

  tokenIssued(): void {
    this.observer?.tokenIssued();
  }

  tokenIgnored(): void {
    this.observer?.tokenIgnored();
  }
}
