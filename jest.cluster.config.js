// The cluster tier (test/cluster/): one real Temporal cluster (`npm run cluster -- up` in a scratch state folder, its
// own ports) for the whole run, instead of the dev server. Run with `npm run test:cluster`; the main config skips it.
// Its own single project: the main config's `projects` (the unit and integration tiers) must not come along, or
// this would run the whole suite too.
const base = require('./jest.config.js');
const integration = base.projects.find((project) => project.displayName === 'integration') ?? {};

/** @type {import('jest').Config} */
module.exports = {
  displayName: 'cluster',
  testEnvironment: 'node',
  rootDir: __dirname,
  roots: ['<rootDir>/test/cluster'],
  testMatch: ['**/*.test.ts'],
  testPathIgnorePatterns: ['/node_modules/'],
  transform: integration.transform,
  modulePathIgnorePatterns: integration.modulePathIgnorePatterns,
  globalSetup: '<rootDir>/test/cluster/global-setup.ts',
  globalTeardown: '<rootDir>/test/cluster/global-teardown.ts',
  // The files share one cluster, and the fault tests stop parts of it: one file at a time.
  maxWorkers: 1,
  testTimeout: 300000,
};
