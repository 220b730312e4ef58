// The cluster tier (test/cluster/): one real Temporal cluster (`npm run cluster -- up` in a scratch state folder, its
// own ports) for the whole run, instead of the dev server. Run with `npm run test:cluster`; the main config skips it.
const base = require('./jest.config.js');

/** @type {import('jest').Config} */
module.exports = {
  ...base,
  roots: ['<rootDir>/test/cluster'],
  testPathIgnorePatterns: ['/node_modules/'],
  globalSetup: '<rootDir>/test/cluster/global-setup.ts',
  globalTeardown: '<rootDir>/test/cluster/global-teardown.ts',
  // The files share one cluster, and the fault tests stop parts of it: one file at a time.
  maxWorkers: 1,
  testTimeout: 300000,
};
