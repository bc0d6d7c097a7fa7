// `nestjs-pindb/terminus`: its own entry point, so that only apps with health checks need
// @nestjs/terminus (an optional peer dependency). The main entry point must never import from here.
export { PinDbHealthIndicator } from './pin-db-health.indicator.js';
export type { PinDbHealthDetails, ServerHealthDetails, SetHealthDetails } from './pin-db-health.indicator.js';
