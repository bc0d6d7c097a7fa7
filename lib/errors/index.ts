export * from './no-database-available.error.js';
export * from './pin-db-config.error.js';
export * from './unpinned-write.error.js';
export * from './replica-session-state.error.js';
export * from './replica-scope-write.error.js';
export * from './replica-transaction-control.error.js';
