import { PgCluster, PgServerName, WaitForReplayOptions } from './pg-cluster.js';
import { PgClusterError } from './pg-cluster.errors.js';
import { PgConnectionOptions, queryServer } from './pg-connection.js';
import { sleep } from './pg-server.js';

/** What every cluster can do with SQL alone: query a server and wait for replay. */
export abstract class BasePgCluster implements Partial<PgCluster> {
  abstract readonly primary: PgConnectionOptions;
  abstract readonly replicas: PgConnectionOptions[];

  get currentPrimary(): PgServerName {
    return 'primary';
  }

  query<T = Record<string, unknown>>(server: PgServerName, sql: string, params: unknown[] = []): Promise<T[]> {
    return queryServer<T>(this.server(server), sql, params);
  }

  async waitForReplay({ replicas = this.replicasToWaitFor(), timeoutMs = 30_000 }: WaitForReplayOptions = {}): Promise<void> {
    for (const i of replicas) {
      if (this.isPrimaryNow(this.checkReplicaIndex(i))) {
        throw new PgClusterError(`waitForReplay: replica ${i} is a primary since promoteReplica(${i}) and replays nothing: leave it out of replicas.`);
      }
    }
    const [{ lsn }] = await this.query<{ lsn: string }>(this.currentPrimary, 'SELECT pg_current_wal_lsn()::text AS lsn');
    const deadline = Date.now() + timeoutMs;
    for (const i of replicas) {
      for (;;) {
        const [{ replayed, at }] = await this.query<{ replayed: boolean; at: string }>(
          i,
          'SELECT pg_last_wal_replay_lsn() >= $1::pg_lsn AS replayed, pg_last_wal_replay_lsn()::text AS at',
          [lsn],
        );
        if (replayed) break;
        if (Date.now() > deadline) {
          throw new PgClusterError(
            `Replica ${i} has replayed up to ${at} and not the primary's ${lsn} after ${timeoutMs} ms: ` +
              'is its replay paused (resumeReplay) or delayed (setApplyDelay)? Or name the replicas to wait for.',
          );
        }
        await sleep(10);
      }
    }
  }

  protected replicasToWaitFor(): number[] {
    return this.replicas.map((_, i) => i);
  }

  /** Whether replica i has been promoted (only a cluster with fault controls promotes). */
  protected isPrimaryNow(_i: number): boolean {
    return false;
  }

  protected server(server: PgServerName): PgConnectionOptions {
    if (server === 'primary') return this.primary;
    return this.replicas[this.checkReplicaIndex(server)];
  }

  protected checkReplicaIndex(i: number): number {
    if (!Number.isInteger(i) || i < 0 || i >= this.replicas.length) {
      throw new PgClusterError(`No replica ${i}: this cluster has replicas 0 to ${this.replicas.length - 1}.`);
    }
    return i;
  }
}
