import type { ReplicaHost } from '../health/replica-host.js';

/** What a poll reads from one replica: how far it has replayed, and its server_version_num. */
export interface ReplayReading {
  lsn?: bigint;
  version?: number;
}

/** How the watch waits between polls: `firstDelayMs` after the loop starts, times `growth` after each poll, up to `maxDelayMs`. */
export interface ReplayPollTiming {
  firstDelayMs: number;
  maxDelayMs: number;
  growth: number;
}

/**
 * A replica a few milliseconds behind is seen within a few milliseconds; one that stays behind
 * costs at most 50 polls a second (a one-row SELECT each) while anyone waits on it.
 */
export const REPLAY_POLL_TIMING: ReplayPollTiming = { firstDelayMs: 2, maxDelayMs: 20, growth: 2 };

export interface ReplayWatchSource {
  /** The replicas that may serve reads now: the ones a poll asks. */
  readable(): readonly ReplicaHost[];
  /** Asks one replica how far it has replayed (its pooled query path, as routing's own checks). */
  read(host: ReplicaHost): Promise<ReplayReading | undefined>;
}

interface Waiter {
  lsn: bigint;
  /** true: every readable replica must have replayed `lsn`; false: one `eligible` replica. */
  every: boolean;
  eligible?: (host: ReplicaHost) => boolean;
  deadline: number;
  done(positions: ReadonlyMap<string, bigint> | undefined): void;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** setTimeout's longest delay: past it, Node fires at once. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** Settles when `promise` does, or after `ms`, whichever comes first (the timer is cleared either way). */
function within(promise: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([promise, new Promise<void>((resolve) => (timer = setTimeout(resolve, Math.min(Math.max(0, ms), MAX_TIMER_MS))))]).then(() =>
    clearTimeout(timer),
  );
}

/**
 * One set's wait for its replicas to replay WAL positions: ONE poll loop shared by everyone who
 * waits (reads whose token no replica has replayed yet, `routing.awaitReplication()`), however
 * many they are. Each poll asks every readable replica once, `pg_last_wal_replay_lsn()`, and
 * settles every waiter it satisfies; a waiter whose deadline passes is settled as not caught up.
 * The loop backs off from a few ms to a cap, and stops when nobody waits: an idle set sends
 * nothing. A replica that does not answer (frozen, down) holds no one past their deadline, and
 * is not asked again while its last question is still out.
 */
export class ReplayWatch {
  private readonly waiters = new Set<Waiter>();
  private running = false;
  /** Questions still out, by replica: a slow replica gets one at a time. */
  private readonly asking = new Map<ReplicaHost, Promise<ReplayReading | undefined>>();
  /** The furthest replay position each replica (host:port) reported while the loop runs; forgotten when it stops. */
  private readonly known = new Map<string, bigint>();
  /** server_version_num by replica (host:port), as the polls and routing's checks have read it. */
  readonly versions = new Map<string, number>();
  /** Loops started and polls made, since the app started (for tests and the bench). */
  loops = 0;
  polls = 0;

  constructor(
    private readonly source: ReplayWatchSource,
    private readonly timing: ReplayPollTiming = REPLAY_POLL_TIMING,
    private readonly pause: (ms: number) => Promise<void> = sleep,
  ) {}

  /** How many wait now. */
  get waiting(): number {
    return this.waiters.size;
  }

  /**
   * Resolves, within `timeoutMs`, with the replay positions (host:port → LSN) of the poll that
   * found an `eligible` readable replica at or past `lsn`; undefined at the deadline, or at once
   * when no replica is readable (there is nothing to wait for).
   */
  someReplayed(lsn: bigint, timeoutMs: number, eligible?: (host: ReplicaHost) => boolean): Promise<ReadonlyMap<string, bigint> | undefined> {
    if (!this.source.readable().some((host) => !eligible || eligible(host))) return Promise.resolve(undefined);
    return new Promise((done) => this.add({ lsn, every: false, eligible, deadline: performance.now() + timeoutMs, done }));
  }

  /**
   * Resolves true once every readable replica has replayed `lsn` (at once when none is readable:
   * reads then go to the primary, which has it), false at the deadline.
   */
  everyReplayed(lsn: bigint, timeoutMs: number): Promise<boolean> {
    const hosts = this.source.readable();
    // The health monitor's last readings may already say so: then nothing is asked.
    if (hosts.every((host) => host.reading?.replayLsn !== undefined && host.reading.replayLsn >= lsn)) return Promise.resolve(true);
    return new Promise((resolve) =>
      this.add({ lsn, every: true, deadline: performance.now() + timeoutMs, done: (positions) => resolve(positions !== undefined) }),
    );
  }

  private add(waiter: Waiter): void {
    this.waiters.add(waiter);
    if (this.running) return;
    this.running = true;
    void this.loop();
  }

  private async loop(): Promise<void> {
    this.loops++;
    let delay = this.timing.firstDelayMs;
    try {
      while (this.waiters.size > 0) {
        // Never past the first deadline: a waiter gets a last poll at its deadline, not after it.
        await this.pause(Math.max(0, Math.min(delay, this.firstDeadline() - performance.now())));
        delay = Math.min(this.timing.maxDelayMs, delay * this.timing.growth);
        await this.poll();
      }
    } catch {
      // Nothing above throws (a replica's failure is caught per replica); if it ever did, no waiter may hang.
      for (const waiter of this.waiters) waiter.done(undefined);
      this.waiters.clear();
    } finally {
      this.running = false;
      this.known.clear();
    }
  }

  private async poll(): Promise<void> {
    this.polls++;
    const hosts = this.source.readable();
    const asked = Promise.all(hosts.map((host) => this.ask(host)));
    // A replica slow to answer must hold neither anyone past their deadline nor the next poll of
    // the others: its answer, when it comes, is kept for the poll after.
    const left = this.firstDeadline() - performance.now();
    await within(asked, Math.min(left, this.timing.maxDelayMs));
    const now = performance.now();
    // What the polls found so far, as it was when the race ended.
    const found: ReadonlyMap<string, bigint> = new Map(this.known);
    for (const waiter of this.waiters) {
      if (this.satisfied(waiter, hosts, found)) waiter.done(found);
      else if (now >= waiter.deadline) waiter.done(undefined);
      else continue;
      this.waiters.delete(waiter);
    }
  }

  /** Asks `host` (or joins the question already out to it), recording its answer in `known`. */
  private ask(host: ReplicaHost): Promise<void> {
    let question = this.asking.get(host);
    if (!question) {
      question = this.source
        .read(host)
        .catch(() => undefined) // a replica that cannot answer has not caught up, as far as this poll knows
        .finally(() => this.asking.delete(host));
      this.asking.set(host, question);
    }
    return question.then((reading) => {
      if (reading?.version !== undefined) this.versions.set(host.label, reading.version);
      // Replay only moves forward: a position a replica reported stays a lower bound of where it is.
      if (reading?.lsn !== undefined && reading.lsn > (this.known.get(host.label) ?? -1n)) this.known.set(host.label, reading.lsn);
    });
  }

  private satisfied(waiter: Waiter, hosts: readonly ReplicaHost[], positions: ReadonlyMap<string, bigint>): boolean {
    const replayed = (host: ReplicaHost) => (positions.get(host.label) ?? -1n) >= waiter.lsn;
    return waiter.every ? hosts.every(replayed) : hosts.some((host) => (!waiter.eligible || waiter.eligible(host)) && replayed(host));
  }

  private firstDeadline(): number {
    let first = Number.POSITIVE_INFINITY;
    for (const waiter of this.waiters) if (waiter.deadline < first) first = waiter.deadline;
    return first;
  }
}
