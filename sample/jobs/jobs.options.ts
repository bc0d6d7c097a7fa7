import type { ConnectionOptions } from 'bullmq';

/** AppModule.forCluster(cluster, { jobs }): the Redis of the shop's BullMQ jobs (the order confirmations). */
export interface JobsOptions {
  /** BullMQ's connection, e.g. `{ url: 'redis://127.0.0.1:6379' }`. */
  connection: ConnectionOptions;
  /** The prefix of BullMQ's keys in that Redis. Default: 'pindb-sample' */
  prefix?: string;
}
