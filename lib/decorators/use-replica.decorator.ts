import { applyDecorators, SetMetadata } from '@nestjs/common';
import { USE_REPLICA_METADATA, USE_REPLICA_OPTIONS_METADATA } from '../pin-db.constants.js';
import { replicaScopeArgs, type ReplicaScopeOptions, type UseReplicaOptions } from '../routing/replica-scope-options.js';

export type { UseReplicaOptions } from '../routing/replica-scope-options.js';

/**
 * Reads of `sets` stay on replicas even when pinned (feeds, search, reports); writes still go to
 * the primary. No set named: every set. The options form adds, for the whole handler:
 * `maxLagMs` (only replicas at most that far behind serve its reads, else the primary) and
 * `preventWrites` (a write throws ReplicaScopeWriteError before it is sent). Bad options throw a
 * PinDbConfigError where the decorator is applied; set names PinDbModule does not define fail the
 * bootstrap.
 */
export function UseReplica(...sets: string[]): ClassDecorator & MethodDecorator;
export function UseReplica(options: UseReplicaOptions): ClassDecorator & MethodDecorator;
export function UseReplica(...args: unknown[]): ClassDecorator & MethodDecorator {
  const { sets, maxLagMs, preventWrites } = replicaScopeArgs('@UseReplica(...)', args);
  // The sets under their own key, as @Pin's: the bootstrap check of set names reads them there.
  const options: ReplicaScopeOptions = { maxLagMs, preventWrites };
  return applyDecorators(SetMetadata(USE_REPLICA_METADATA, sets), SetMetadata(USE_REPLICA_OPTIONS_METADATA, options));
}
