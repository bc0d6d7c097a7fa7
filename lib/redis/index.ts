// `nestjs-pindb/redis`: its own entry point, so that only apps that use Redis need ioredis (an
// optional peer dependency). The main entry point must never import from here.
export { RedisPinStore } from '../stores/redis-pin.store.js';
export { REDIS_PIN_STORE_CLIENT_DEFAULTS } from '../stores/redis-pin-store.options.js';
export type { RedisPinClient, RedisPinStoreOptions } from '../stores/redis-pin-store.options.js';
