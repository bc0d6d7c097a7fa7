/**
 * pgpool-II for bench/pgpool.ts: found on the PATH (or in /usr/sbin, where Debian puts it), configured
 * in a temp dir of its own (pgpool.conf written here, an empty pcp.conf, no pool_passwd, trust), run
 * in the foreground as a child process of the bench, and stopped at the end. Its node view
 * (SHOW POOL_NODES) tells when it detached a replica and when it attached it again.
 */
import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { accessSync, constants, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { Client } from 'pg';
import { reservePorts } from '../lib/testing/free-ports.js';
import type { ClusterInfo } from './cluster-check.js';

/** pgpool's setting for reads after a write in the same session: its default, and its safe ones. */
export type LoadBalanceOnWrite = 'transaction' | 'always' | 'dml_adaptive';

const HOST = '127.0.0.1';
const INSTALL_HINT = 'install it with `sudo apt-get install -y pgpool2` (Debian/Ubuntu; the binary is /usr/sbin/pgpool), or put a pgpool binary on the PATH';

/** The pgpool binary, or undefined with why and how to install it. */
export function findPgpool(): { binary?: string; version?: string; missing?: string } {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/usr/local/sbin'];
  for (const dir of dirs) {
    const binary = join(dir, 'pgpool');
    try {
      accessSync(binary, constants.X_OK);
    } catch {
      continue;
    }
    const version = execFileSync(binary, ['--version'], { encoding: 'utf8' }).trim();
    return { binary, version };
  }
  return { missing: `no pgpool binary on the PATH nor in /usr/sbin: ${INSTALL_HINT}` };
}

/**
 * The settings that matter, as a careful user would set them for this cluster (pgpool 4.3: the lag
 * limit is in bytes only; delay_threshold_by_time came in 4.4). Printed by the bench and quoted in
 * bench/README.md.
 */
export function keySettings(onWrite: LoadBalanceOnWrite, delayThresholdBytes: number, statementLevel: boolean): Record<string, string | number> {
  return {
    backend_clustering_mode: "'streaming_replication'",
    load_balance_mode: 'on',
    // Per query, not per session: the app's pool keeps its sessions open for good (the docs' advice for pooled apps).
    statement_level_load_balance: statementLevel ? 'on' : 'off',
    disable_load_balance_on_write: `'${onWrite}'`,
    // Reads on replicas only, as PinDb's defaultTarget 'replica': the primary serves what cannot be balanced.
    backend_weight0: 0,
    sr_check_period: 1,
    delay_threshold: delayThresholdBytes,
    // As PinDb's health defaults: a check a second, 2 s to connect, no retries.
    health_check_period: 1,
    health_check_timeout: 2,
    health_check_max_retries: 0,
    connect_timeout: 2000,
    failover_on_backend_error: 'on',
    // A standby streaming again is attached again by itself (the default is to wait for pcp_attach_node).
    auto_failback: 'on',
    auto_failback_interval: 5,
  };
}

export interface PgpoolOptions {
  binary: string;
  cluster: ClusterInfo;
  onWrite: LoadBalanceOnWrite;
  delayThresholdBytes: number;
  statementLevel: boolean;
}

export interface PoolNode {
  port: number;
  /** pgpool's view: up, waiting (attached, not used yet), down, unused. */
  status: string;
  role: string;
}

/** Running servers, killed if the bench exits without stopping them (an error, Ctrl-C): pgpool runs in a process group of its own. */
const running = new Set<PgpoolServer>();
process.on('exit', () => {
  for (const server of running) server.kill();
});

export class PgpoolServer {
  private exited: Promise<void>;

  private constructor(
    readonly port: number,
    readonly dir: string,
    private readonly child: ChildProcess,
  ) {
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    running.add(this);
  }

  /** Starts pgpool and resolves once it answers SHOW POOL_NODES with every backend attached. */
  static async start(options: PgpoolOptions): Promise<PgpoolServer> {
    const dir = mkdtempSync(join(tmpdir(), 'pindb-pgpool-'));
    const [port, pcpPort] = await reservePorts(HOST, 2);
    const backends = [options.cluster.primary, ...options.cluster.replicas];
    const settings: Record<string, string | number> = {
      ...keySettings(options.onWrite, options.delayThresholdBytes, options.statementLevel),
      listen_addresses: `'${HOST}'`,
      port,
      socket_dir: `'${dir}'`,
      pcp_listen_addresses: "''",
      pcp_port: pcpPort,
      pcp_socket_dir: `'${dir}'`,
      wd_ipc_socket_dir: `'${dir}'`,
      pid_file_name: `'${join(dir, 'pgpool.pid')}'`,
      logdir: `'${dir}'`,
      log_destination: "'stderr'",
      log_min_messages: "'warning'",
      enable_pool_hba: 'off',
      pool_passwd: "''",
      use_watchdog: 'off',
      memory_cache_enabled: 'off',
      failover_command: "''",
      sr_check_user: `'${options.cluster.primary.username}'`,
      sr_check_password: "''",
      sr_check_database: `'${options.cluster.primary.database}'`,
      health_check_user: `'${options.cluster.primary.username}'`,
      health_check_password: "''",
      health_check_database: `'${options.cluster.primary.database}'`,
    };
    backends.forEach((server, i) => {
      settings[`backend_hostname${i}`] = `'${server.host}'`;
      settings[`backend_port${i}`] = server.port;
      settings[`backend_flag${i}`] = "'ALLOW_TO_FAILOVER'";
      if (i > 0) {
        settings[`backend_weight${i}`] = 1;
        // The walreceiver's application_name (lib/testing): pgpool matches pg_stat_replication on it for auto_failback.
        settings[`backend_application_name${i}`] = `'replica_${i - 1}'`;
      }
    });
    const conf = join(dir, 'pgpool.conf');
    writeFileSync(
      conf,
      Object.entries(settings)
        .map(([key, value]) => `${key} = ${value}\n`)
        .join(''),
    );
    const pcpConf = join(dir, 'pcp.conf');
    writeFileSync(pcpConf, '');
    const log = openSync(join(dir, 'pgpool.log'), 'a');
    // -n: in the foreground, a child of this process; -D: forget any node status of an earlier run.
    const child = spawn(options.binary, ['-n', '-D', '-f', conf, '-F', pcpConf], { stdio: ['ignore', log, log], detached: true });
    const server = new PgpoolServer(port, dir, child);
    const deadline = Date.now() + 30_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`pgpool exited (${child.exitCode}) at start: ${server.logTail()}`);
      const nodes = await server.nodes().catch(() => undefined);
      if (nodes && nodes.length === backends.length && nodes.every((node) => node.status === 'up' || node.status === 'waiting')) return server;
      if (Date.now() > deadline) {
        await server.stop();
        throw new Error(`pgpool did not attach every backend within 30 s (${JSON.stringify(nodes)}): ${server.logTail()}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }

  /**
   * pgpool's view of its backends, through its own SQL command (a connection of its own). Bounded:
   * while pgpool restarts its children (a failover, a failback) a query can go unanswered for good.
   */
  async nodes(): Promise<PoolNode[]> {
    const client = new Client({ host: HOST, port: this.port, user: 'postgres', database: 'postgres', connectionTimeoutMillis: 2000, query_timeout: 2000 });
    try {
      await client.connect();
      const { rows } = await client.query<{ port: string; status: string; role: string }>('SHOW POOL_NODES');
      return rows.map((row) => ({ port: Number(row.port), status: row.status, role: row.role }));
    } finally {
      // Not awaited: a connection pgpool stopped answering may never close cleanly.
      void client.end().catch(() => undefined);
    }
  }

  /** The last lines of pgpool's log, for an error message. */
  logTail(lines = 15): string {
    try {
      return readFileSync(join(this.dir, 'pgpool.log'), 'utf8').trim().split('\n').slice(-lines).join('\n');
    } catch {
      return '(no log)';
    }
  }

  /**
   * CPU seconds of pgpool's processes so far (its main process and every child: they share its
   * process group), for its cost per request. Children that ended count through their parent.
   */
  cpuSeconds(): number {
    const pgid = this.child.pid!;
    let ticks = 0;
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      try {
        // Fields after "(comm)": state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime cutime cstime.
        const fields = readFileSync(`/proc/${entry}/stat`, 'utf8').split(') ')[1].split(' ');
        if (Number(fields[2]) !== pgid) continue;
        ticks += Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14]);
      } catch {
        // gone meanwhile
      }
    }
    // Clock ticks: 100 a second on Linux.
    return ticks / 100;
  }

  /** Fast shutdown (SIGINT); SIGKILL to its process group if it has not exited within 10 s. Removes its dir. */
  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      this.child.kill('SIGINT');
      const timer = setTimeout(() => this.kill(), 10_000);
      await this.exited;
      clearTimeout(timer);
    }
    running.delete(this);
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** SIGKILL to pgpool's process group, at once (this process is exiting, or pgpool would not stop). */
  kill(): void {
    try {
      process.kill(-this.child.pid!, 'SIGKILL');
    } catch {
      // gone meanwhile
    }
  }
}
