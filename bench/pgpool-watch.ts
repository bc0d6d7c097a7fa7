/**
 * Follows one backend in pgpool's SHOW POOL_NODES every POLL_MS and keeps each change of its
 * status, so bench/pgpool.ts can say when pgpool detached a faulty replica and when it attached it
 * again: the counterpart of bench/failover-watch.ts for PinDb's health report.
 */
import type { PgpoolServer } from './pgpool-server.js';

const POLL_MS = 100;

export interface NodeChange {
  /** performance.now() of the poll that saw it. */
  at: number;
  /** 'up', 'waiting', 'down', or 'unanswered' when pgpool itself did not answer the poll. */
  status: string;
}

export class PgpoolNodeWatch {
  readonly changes: NodeChange[] = [];
  private running = true;
  private readonly done: Promise<void>;

  constructor(server: PgpoolServer, backendPort: number) {
    this.done = (async () => {
      while (this.running) {
        let status: string;
        try {
          status = (await server.nodes()).find((node) => node.port === backendPort)?.status ?? 'missing';
        } catch {
          status = 'unanswered';
        }
        if (status !== this.changes.at(-1)?.status) this.changes.push({ at: performance.now(), status });
        await new Promise((resolve) => setTimeout(resolve, POLL_MS));
      }
    })();
  }

  /** The first change to one of `statuses` at or after `from` (performance.now()). */
  firstAfter(statuses: string[], from: number): NodeChange | undefined {
    return this.changes.find((change) => statuses.includes(change.status) && change.at >= from);
  }

  stop(): Promise<void> {
    this.running = false;
    return this.done;
  }
}
