// `nestjs-pindb/bullmq`: its own entry point, so that only apps with BullMQ jobs need bullmq and
// @nestjs/bullmq (optional peer dependencies). The main entry point must never import from here.
// Loading it makes @nestjs/bullmq build PinDb's queues, flow producers and workers (see pin-db-bull.module.ts).
export { PinDbBullModule } from './pin-db-bull.module.js';
export { PinDbBullOptions } from './pin-db-bull.options.js';
export { JobConsistency } from './job-consistency.decorator.js';
export type { JobConsistencyMode } from './job-consistency.js';
export { PinDbQueue } from './pin-db.queue.js';
export { PinDbFlowProducer } from './pin-db.flow-producer.js';
export { PinDbWorker } from './pin-db.worker.js';
export { PINDB_TOKEN_OPTION, pinDbTokenOf } from './job-token.js';
export type { PinDbJobOptions } from './job-token.js';
