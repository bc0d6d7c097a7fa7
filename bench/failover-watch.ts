/**
 * Follows one replica in PinDb's health report (GET /health-report of bench/failover-app.ts) every
 * POLL_MS and keeps each change of its state (and of its cooldown), so bench/failover.ts can say when it was marked down
 * or lagging and when it was re-admitted. Polled over its own connection, outside the load.
 */
import { Agent, request } from 'node:http';
import type { ServerHealth, SetHealthReport } from '../lib/index.js';

const POLL_MS = 25;

export interface HealthChange {
  /** performance.now() of the poll that saw it (the parent's clock). */
  at: number;
  state: 'readable' | 'down' | 'lagging' | 'unreadable';
  replica: ServerHealth;
}

function stateOf(replica: ServerHealth): HealthChange['state'] {
  if (replica.readable) return 'readable';
  if (!replica.up) return 'down';
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

export class HealthWatch {
  readonly changes: HealthChange[] = [];
  /** The last report seen of the replica (its lag figures, error, rounds). */
  last?: ServerHealth;
  private running = true;
  private readonly done: Promise<void>;
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 1 });

  constructor(url: string, replicaPort: number) {
    const base = new URL(url);
    this.done = (async () => {
      while (this.running) {
        try {
          const report = await fetchReport(this.agent, base);
          const replica = report.find((set) => set.set === 'default')?.replicas.find((r) => r.server.endsWith(`:${replicaPort}`));
          if (replica) this.see(replica);
        } catch {
          // A poll lost to a busy app: the next one will tell.
        }
        await new Promise((resolve) => setTimeout(resolve, POLL_MS));
      }
    })();
  }

  /** The first change to `state` at or after `from` (performance.now()). */
  firstAfter(state: HealthChange['state'], from: number): HealthChange | undefined {
    return this.changes.find((change) => change.state === state && change.at >= from);
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
    this.last = replica;
    const state = stateOf(replica);
    const previous = this.changes.at(-1);
    // A new cooldown (a failed check doubles it) is a change too: the timeline shows the backoff.
    if (state !== previous?.state || replica.downUntil !== previous.replica.downUntil) this.changes.push({ at: performance.now(), state, replica });
  }
}
