import { BasePgCluster } from './base-pg-cluster.js';
import { PgCluster } from './pg-cluster.js';
import { PgClusterError } from './pg-cluster.errors.js';
import { parseConnectionUrl } from './pg-connection.js';

export interface ExternalPgClusterOptions {
  primaryUrl: string;
  replicaUrls: string[];
}

/**
 * A cluster that already runs elsewhere, given by URLs: queries and waitForReplay work; the fault
 * controls throw, since we neither own its processes nor may disturb it.
 */
export function connectPgCluster({ primaryUrl, replicaUrls }: ExternalPgClusterOptions): PgCluster {
  return new ExternalPgCluster(primaryUrl, replicaUrls);
}

class ExternalPgCluster extends BasePgCluster implements PgCluster {
  readonly external = true;
  readonly primary;
  readonly replicas;

  constructor(primaryUrl: string, replicaUrls: string[]) {
    super();
    this.primary = parseConnectionUrl(primaryUrl);
    this.replicas = replicaUrls.map(parseConnectionUrl);
  }

  stopReplica = this.unsupported('stopReplica');
  startReplica = this.unsupported('startReplica');
  stopPrimary = this.unsupported('stopPrimary');
  startPrimary = this.unsupported('startPrimary');
  killReplica = this.unsupported('killReplica');
  freezeReplica = this.unsupported('freezeReplica');
  thawReplica = this.unsupported('thawReplica');
  freezePrimary = this.unsupported('freezePrimary');
  thawPrimary = this.unsupported('thawPrimary');
  cutReplicaStream = this.unsupported('cutReplicaStream');
  restoreReplicaStream = this.unsupported('restoreReplicaStream');
  pauseReplay = this.unsupported('pauseReplay');
  resumeReplay = this.unsupported('resumeReplay');
  setApplyDelay = this.unsupported('setApplyDelay');
  promoteReplica = this.unsupported('promoteReplica');
  addReplica = this.unsupported('addReplica');

  async stop(): Promise<void> {
    // Not ours to stop.
  }

  private unsupported(control: string): () => Promise<never> {
    return async () => {
      throw new PgClusterError(
        `${control}() needs a cluster started by startPgCluster(); this one was given by URLs (connectPgCluster) and is not ours to disturb.`,
      );
    };
  }
}
