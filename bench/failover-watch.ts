/**
 * Follows one replica in PinDb's health report (GET /health-report of bench/failover-app.ts) every
 * POLL_MS and keeps each change of its state (and of its cooldown), so bench/failover.ts can say when it was marked down
 * or lagging and when it was re-admitted; the other replicas' changes, and the set's primary's
 * (which server, up or not: the promote scenario's switch), are kept too. Polled over its own
 * connection, outside the load.
 */
import { Agent, request } from 'node:http';
import type { ServerHealth, SetHealthReport } from '../lib/index.js';

const POLL_MS = 25;

export interface HealthChange {
  /** performance.now() of the poll that saw it (the parent's clock). */
  at: number;
  state: 'readable' | 'down' | 'lagging' | 'promoted' | 'unreadable';
  replica: ServerHealth;
}

function stateOf(replica: ServerHealth): HealthChange['state'] {
  if (replica.readable) return 'readable';
  if (!replica.up) return 'down';
  if (replica.promoted) return 'promoted';
  return replica.lagging ? 'lagging' : 'unreadable';
}

function fetchReport(agent: Agent, base: URL): Promise<SetHealthReport[]> {
  return new Promise((resolve, reject) => {
    const req = request({ host: base.hostname, port: base.port, path: '/health-report', agent }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('error', reject);
      res.on('end', () => (res.statusCode === 200 ? resolve(JSON.parse(text) as SetHealthReport[]) : reject(new Error(`HTTP ${res.statusCode}`))));
    });
    req.on('error', reject);
    req.end();
  });
}

/** A change of the set's primary in the report: another server, or the same one up or down. */
export interface PrimaryChange {
  at: number;
  primary: ServerHealth;
  switches: number;
}

export class HealthWatch {
  /** The changes of the replica the watch was made for. */
  readonly changes: HealthChange[] = [];
  /** The last report seen of the replica (its lag figures, error, rounds). */
  last?: ServerHealth;
  readonly primaryChanges: PrimaryChange[] = [];
  /** Every replica's changes, by port (the watched one's are `changes`). */
  private readonly byPort = new Map<number, HealthChange[]>();
  private running = true;
  private readonly done: Promise<void>;
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 1 });

  constructor(
    url: string,
    private readonly replicaPort: number,
  ) {
    const base = new URL(url);
    this.byPort.set(replicaPort, this.changes);
    this.done = (async () => {
      while (this.running) {
        try {
          const report = await fetchReport(this.agent, base);
          const set = report.find((s) => s.set === 'default');
          if (set) {
            this.seePrimary(set.primary, set.primarySwitches ?? 0);
            for (const replica of set.replicas) this.see(replica);
          }
        } catch {
          // A poll lost to a busy app: the next one will tell.
        }
        await new Promise((resolve) => setTimeout(resolve, POLL_MS));
      }
    })();
  }

  /** The first change to `state` at or after `from` (performance.now()), of the watched replica or of the one at `port`. */
  firstAfter(state: HealthChange['state'], from: number, port?: number): HealthChange | undefined {
    return this.changesOf(port).find((change) => change.state === state && change.at >= from);
  }

  /** The changes of the replica at `port` (default: the watched one); none if it was never in a report. */
  changesOf(port?: number): HealthChange[] {
    return port === undefined ? this.changes : (this.byPort.get(port) ?? []);
  }

  /** The state now, as last polled. */
  get state(): HealthChange['state'] | undefined {
    return this.changes.at(-1)?.state;
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.done;
    this.agent.destroy();
  }

  private see(replica: ServerHealth): void {
    const port = Number(replica.server.slice(replica.server.lastIndexOf(':') + 1));
    if (port === this.replicaPort) this.last = replica;
    let changes = this.byPort.get(port);
    if (!changes) this.byPort.set(port, (changes = []));
    const state = stateOf(replica);
    const previous = changes.at(-1);
    // A new cooldown (a failed check doubles it) is a change too: the timeline shows the backoff. So
    // is a new WAL timeline (followPromotion only): a replica following a promoted one.
    if (state !== previous?.state || replica.downUntil !== previous.replica.downUntil || replica.timeline !== previous.replica.timeline) {
      changes.push({ at: performance.now(), state, replica });
    }
  }

  private seePrimary(primary: ServerHealth, switches: number): void {
    const previous = this.primaryChanges.at(-1);
    if (primary.server !== previous?.primary.server || primary.up !== previous.primary.up)
      this.primaryChanges.push({ at: performance.now(), primary, switches });
  }
}
