export * from './host-list.js';
export * from './replica-host.js';
