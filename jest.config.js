import { createRequire } from 'node:module';

/** @type {import('jest').Config} */
export default {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testRegex: '\\.spec\\.ts$',
  extensionsToTreatAsEsm: ['.ts'],
  // Sources import siblings as './x.js' (ESM); jest resolves them to the .ts files.
  moduleNameMapper: {
    '^(\\.{1,2}/.*)\\.js$': '$1',
    // Mercurius's @fastify/static requires content-disposition 3, ESM only, which Jest cannot require()
    // before Node 24.9; the top-level copy (Express's, CommonJS) has the same create().
    '^content-disposition$': createRequire(import.meta.url).resolve('content-disposition'),
  },
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json', useESM: true }] },
  // Each spec file starts its own cluster; two at a time fit the 2-core machines.
  maxWorkers: 2,
  testTimeout: 60_000,
  reporters: ['default', '<rootDir>/test/support/summary-reporter.cjs'],
};
