export * from './decorators/index.js';
export * from './errors/index.js';
export { PinDbHealthMonitor } from './health/pin-db-health.monitor.js';
export type { ServerHealth, SetHealthReport } from './health/set-health.js';
export * from './options/index.js';
export { PinDbModule } from './pin-db.module.js';
export * from './routing/index.js';
export * from './stores/index.js';
