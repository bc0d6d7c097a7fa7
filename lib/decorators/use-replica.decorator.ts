import { SetMetadata } from '@nestjs/common';
import { USE_REPLICA_METADATA } from '../pin-db.constants.js';

/**
 * Reads of `sets` stay on replicas even when pinned (feeds, search, reports); writes still go to
 * the primary. No set named: every set.
 */
export const UseReplica = (...sets: string[]) => SetMetadata(USE_REPLICA_METADATA, sets);
