export * from './pin-db-async-options.js';
export * from './pin-db-module-options.js';
