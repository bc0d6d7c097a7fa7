export * from './fingerprint.js';
export * from './memory-pin.store.js';
export * from './pin-store.js';
// Not RedisPinStore: it imports ioredis, an optional peer dependency, so it has its own entry
// point, `nestjs-pindb/redis` (lib/redis/index.ts).
