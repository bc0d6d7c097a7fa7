import type { HostList } from '../health/host-list.js';
import type { ReplicaHost } from '../health/replica-host.js';
import type { ContextState } from './context-state.js';
import type { RoutingEvents } from './routing-events.js';
import type { ReplayWatch } from './replay-watch.js';
import { hasWaitForLsn, waitForLsnStatement, waitForLsnStatus } from './wait-for-lsn.js';

/** Where a read went after its wait: a replica caught up in time, or not, and it went to the primary. */
export type ReplayWaitOutcome = 'replica' | 'primary';

/**
 * `WAIT FOR LSN` statements one replica may hold at once: each holds one of its pool's
 * connections while it waits, so past this the waits join the shared poll loop instead of
 * taking the connections reads need.
 */
const WAITS_FOR_LSN_PER_REPLICA = 2;

/** `promise`'s value, or undefined once `ms` have passed (the timer is cleared either way). */
function beforeDeadline<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), ms)));
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

/**
 * `replayWaitMs` for one set: a read whose token no readable replica has replayed waits up to that
 * long for one to, before it goes to the primary (and the set's reads stay there for the rest of
 * the context, as without the wait). A context waits at most once per set: reads that run
 * meanwhile in the same context share its wait, later ones do not wait again. On PostgreSQL 19 or
 * later the chosen replica waits itself (`WAIT FOR LSN`); before, the set's shared poll loop
 * (ReplayWatch) watches the replicas. Each wait is counted in the context's stats and the metrics.
 */
export class ReplayWaiter {
  /** Each context's wait while it runs, then 'waited'. */
  private readonly waits = new WeakMap<ContextState, Promise<void> | 'waited'>();
  /** WAIT FOR LSN statements out, by replica. */
  private readonly waitingFor = new Map<ReplicaHost, number>();
  /** Replicas that failed a WAIT FOR LSN: their waits go to the poll loop from then on. */
  private readonly refused = new WeakSet<ReplicaHost>();

  constructor(
    private readonly set: string,
    /** The set's replicas now (discovery swaps the list). */
    private readonly hostList: () => HostList,
    private readonly watch: ReplayWatch,
    private readonly waitMs: number,
    private readonly events?: RoutingEvents,
  ) {}

  /** Whether a read of `context` may wait: replayWaitMs > 0, and the context has not waited yet (or is waiting now). */
  mayWait(context: ContextState): boolean {
    return this.waitMs > 0 && this.waits.get(context) !== 'waited';
  }

  /**
   * Waits, once per context, until some readable replica other than `avoid` has replayed `lsn`, or
   * replayWaitMs has passed. What it learns goes into `context.replayed`, where the read's choice
   * of replica looks.
   */
  wait(context: ContextState, lsn: bigint, avoid: ReplicaHost | undefined): Promise<void> {
    const current = this.waits.get(context);
    if (current === 'waited') return Promise.resolve();
    if (current) return current;
    const wait = this.waitOnce(context, lsn, avoid).finally(() => this.waits.set(context, 'waited'));
    this.waits.set(context, wait);
    return wait;
  }

  private async waitOnce(context: ContextState, lsn: bigint, avoid: ReplicaHost | undefined): Promise<void> {
    const started = performance.now();
    const eligible = (host: ReplicaHost) => host !== avoid && host.readable;
    const hosts = this.hostList();
    const caughtUp = () => hosts.hosts.some((host) => eligible(host) && (context.replayed.get(host.label) ?? -1n) >= lsn);
    const chosen = hosts.next(eligible);
    if (chosen && this.mayWaitOn(chosen)) {
      await this.waitOnReplica(context, chosen, lsn, this.waitMs);
    }
    const left = this.waitMs - (performance.now() - started);
    if (!caughtUp() && left > 0) {
      const positions = await this.watch.someReplayed(lsn, left, eligible);
      for (const [label, position] of positions ?? []) {
        if (position > (context.replayed.get(label) ?? -1n)) context.replayed.set(label, position);
      }
    }
    const ms = performance.now() - started;
    const outcome: ReplayWaitOutcome = caughtUp() ? 'replica' : 'primary';
    context.stats.replayWait(this.set, ms);
    this.events?.replayWait(this.set, outcome, ms / 1000);
  }

  /** PostgreSQL 19 or later, as a poll or routing's check read it, and not too many of its connections waiting already. */
  private mayWaitOn(host: ReplicaHost): boolean {
    return hasWaitForLsn(this.watch.versions.get(host.label)) && !this.refused.has(host) && (this.waitingFor.get(host) ?? 0) < WAITS_FOR_LSN_PER_REPLICA;
  }

  /**
   * PostgreSQL 19 or later: the replica itself waits, `WAIT FOR LSN` on a pooled connection (a
   * statement of its own, outside any transaction). A replica that refuses it (an error, an
   * unknown answer) is not asked so again: its waits go to the poll loop, for the time left.
   */
  private async waitOnReplica(context: ContextState, host: ReplicaHost, lsn: bigint, timeoutMs: number): Promise<void> {
    this.waitingFor.set(host, (this.waitingFor.get(host) ?? 0) + 1);
    try {
      // The server bounds the wait; a frozen one would not answer at all, so this side bounds it too.
      const rows = await beforeDeadline(host.query<Record<string, unknown>>(waitForLsnStatement(lsn, timeoutMs)), timeoutMs + 250);
      const status = rows === undefined ? 'timeout' : waitForLsnStatus(rows);
      if (status === 'success') context.replayed.set(host.label, lsn);
      else if (status === undefined) this.refused.add(host);
      // 'timeout': not in time; 'not in recovery': promoted, which its next health check takes out of the reads.
    } catch {
      this.refused.add(host);
    } finally {
      this.waitingFor.set(host, this.waitingFor.get(host)! - 1);
    }
  }
}
