export * from './pin.decorator.js';
export * from './pinning-context.decorator.js';
export * from './use-replica.decorator.js';
