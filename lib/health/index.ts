export * from './host-list.js';
export * from './pin-db-health.monitor.js';
export * from './replica-host.js';
export type { ServerHealth, SetHealthReport } from './set-health.js';
