export type { Target } from './context-state.js';
export * from './pin-db.context.js';
export * from './pin-db.guard.js';
export * from './pin-db.interceptor.js';
export * from './pin-db.middleware.js';
export * from './routing-stats.js';
export * from './routing.service.js';
export type { AwaitReplicationOptions } from './await-replication.js';
export type { ReplicaTransactionOptions } from '../typeorm/replica-transaction.js';
