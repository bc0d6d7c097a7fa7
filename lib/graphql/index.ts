export * from './graphql-request.js';
export * from './method-pin.js';
export * from './resolver-args.js';
export * from './subscription-events.js';
