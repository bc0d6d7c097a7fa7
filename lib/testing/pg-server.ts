import { ChildProcess, spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync, realpathSync } from 'node:fs';
import { Client } from 'pg';
import { OsUser } from './os-user.js';
import { PgBinaries } from './pg-binaries.js';
import { PgClusterError, PgPortTakenError } from './pg-cluster.errors.js';
import { childPids, processAlive, signalAll } from './process-tree.js';

export type StopMode = 'smart' | 'fast' | 'immediate';

/** PostgreSQL's shutdown modes are signals to the postmaster (see pg_ctl's documentation). */
const STOP_SIGNALS: Record<StopMode, NodeJS.Signals> = { smart: 'SIGTERM', fast: 'SIGINT', immediate: 'SIGQUIT' };

const START_TIMEOUT_MS = 60_000;

export interface PgServerSpec {
  /** For messages: "primary", "replica 0". */
  label: string;
  dataDir: string;
  logFile: string;
  host: string;
  port: number;
  binaries: PgBinaries;
  osUser?: OsUser;
}

/**
 * One PostgreSQL server: a postmaster and its children. The postmaster is started detached, so that
 * a Ctrl-C meant for the test runner does not shut it down behind the cluster's back.
 */
export class PgServer {
  private child?: ChildProcess;
  private exited?: Promise<void>;
  private frozen = false;

  constructor(readonly spec: PgServerSpec) {}

  get running(): boolean {
    return this.child !== undefined;
  }

  /** Stopped by freeze() (SIGSTOP) and not thawed: it answers nothing. */
  get isFrozen(): boolean {
    return this.frozen;
  }

  /** The postmaster's pid. */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  async start(): Promise<void> {
    if (this.child) throw new PgClusterError(`${this.spec.label} is already running.`);
    const log = openSync(this.spec.logFile, 'a');
    const child = spawn(this.spec.binaries.postgres, ['-D', this.spec.dataDir], {
      detached: true,
      stdio: ['ignore', log, log],
      uid: this.spec.osUser?.uid,
      gid: this.spec.osUser?.gid,
      env: serverEnv(),
    });
    closeSync(log);
    child.unref();
    this.child = child;
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    this.exited.then(() => {
      if (this.child === child) this.child = undefined;
    });
    await this.waitUntilAccepting(child);
  }

  /** Shuts the server down in PostgreSQL's `mode` and waits until every process of it is gone. */
  async stop(mode: StopMode = 'fast'): Promise<void> {
    const pid = this.child?.pid;
    if (!pid) return;
    this.thaw();
    // In every mode the postmaster waits for its children before it exits.
    process.kill(pid, STOP_SIGNALS[mode]);
    await this.waitForExit([]);
  }

  /** SIGKILL of the postmaster alone, as a crash would; its children notice and exit. */
  async kill(): Promise<void> {
    const pid = this.child?.pid;
    if (!pid) return;
    this.thaw();
    const children = childPids(pid);
    process.kill(pid, 'SIGKILL');
    // Orphaned backends exit on their own once they notice; a restart must wait for them.
    await this.waitForExit(children);
  }

  /**
   * SIGSTOP to every process of the server: new connections are accepted by the kernel and then
   * hang, and so do queries on open ones. The postmaster goes first so that it forks no new child.
   */
  freeze(): void {
    const pid = this.requirePid();
    signalAll([pid], 'SIGSTOP');
    signalAll(childPids(pid), 'SIGSTOP');
    this.frozen = true;
  }

  thaw(): void {
    if (!this.frozen) return;
    const pid = this.requirePid();
    signalAll([...childPids(pid), pid], 'SIGCONT');
    this.frozen = false;
  }

  /** Synchronous last resort, for process exit: kills every process of the server without waiting. */
  killNow(): void {
    const pid = this.child?.pid;
    if (!pid) return;
    const all = [pid, ...childPids(pid)];
    signalAll(all, 'SIGCONT');
    signalAll(all, 'SIGKILL');
  }

  logTail(lines = 15): string {
    try {
      return readFileSync(this.spec.logFile, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
    } catch {
      return '(no log)';
    }
  }

  private requirePid(): number {
    const pid = this.child?.pid;
    if (!pid) throw new PgClusterError(`${this.spec.label} is not running: start it first.`);
    return pid;
  }

  private async waitUntilAccepting(child: ChildProcess): Promise<void> {
    const deadline = Date.now() + START_TIMEOUT_MS;
    let lastError: unknown;
    while (Date.now() < deadline) {
      if (this.child !== child) {
        const message = `${this.spec.label} exited while starting. Its log (${this.spec.logFile}) ends with:\n${this.logTail()}`;
        throw /Address already in use/.test(this.logTail(50)) ? new PgPortTakenError(message) : new PgClusterError(message);
      }
      const client = new Client({ host: this.spec.host, port: this.spec.port, user: 'postgres', database: 'postgres', connectionTimeoutMillis: 2000 });
      client.on('error', () => undefined);
      try {
        await client.connect();
        // Another server may hold the port (taken between the choice of free ports and the start).
        const [{ data_directory: dataDir }] = (await client.query('SHOW data_directory')).rows;
        if (realpathSync(dataDir) !== realpathSync(this.spec.dataDir)) {
          this.killNow();
          throw new PgPortTakenError(`${this.spec.label}: port ${this.spec.port} answers for another server (${dataDir}).`);
        }
        return;
      } catch (error) {
        if (error instanceof PgPortTakenError) throw error;
        lastError = error;
        await sleep(50);
      } finally {
        await client.end().catch(() => undefined);
      }
    }
    this.killNow();
    throw new PgClusterError(
      `${this.spec.label} did not accept connections on ${this.spec.host}:${this.spec.port} within ${START_TIMEOUT_MS / 1000} s ` +
        `(last error: ${(lastError as Error)?.message}). Its log ends with:\n${this.logTail()}`,
    );
  }

  private async waitForExit(children: number[]): Promise<void> {
    // The child is unref'd so that a running cluster never keeps the process alive; while we wait
    // for its exit, it must, or Node could exit with the await pending.
    this.child?.ref();
    await this.exited;
    const deadline = Date.now() + 10_000;
    while (children.some(processAlive)) {
      if (Date.now() > deadline) signalAll(children, 'SIGKILL');
      await sleep(20);
    }
  }
}

/** The parent's PG* variables must not leak into the servers; messages stay in English for the tests. */
function serverEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!key.startsWith('PG') && !key.startsWith('LC_')) env[key] = value;
  }
  return { ...env, LC_ALL: 'C', LANG: 'C' };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
