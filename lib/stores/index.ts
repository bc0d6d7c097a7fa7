export * from './memory-pin.store.js';
export * from './pin-store.js';
