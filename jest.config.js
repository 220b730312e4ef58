// Two tiers in one Jest run (README, "Tests"). The unit tier (API schema, compiler, bytecode, CLI rendering, rollout core, dashboard metric names) needs
// no Docker and no Temporal, so it has no global setup; every other test shares one Temporal dev server and a Docker
// check (test/setup/), started only when a test of that tier runs. `npm test` runs both, each file once;
// OPENCLAW_TEST_TIER=unit|integration (npm run test:unit, test:integration) runs one.
const UNIT_FOLDERS = ['api', 'compiler', 'bytecode', 'cli', 'rollout', 'telemetry'];
const TIERS = ['unit', 'integration'];
const tier = process.env.OPENCLAW_TEST_TIER;
if (tier !== undefined && tier !== '' && !TIERS.includes(tier)) throw new Error(`OPENCLAW_TEST_TIER must be one of ${TIERS.join(', ')}, not ${tier}`);

const transform = {
  '^.+\\.ts$': ['@swc/jest', { jsc: { parser: { syntax: 'typescript' }, target: 'es2022' }, module: { type: 'commonjs' } }],
};

// Provisioned tools and build output hold package.json files of their own (jest-haste-map would warn).
const modulePathIgnorePatterns = ['<rootDir>/.tools/', '<rootDir>/dist/'];

/** @type {import('jest').Config} */
module.exports = {
  testTimeout: 120000,
  maxWorkers: 2,
  projects: [
    {
      displayName: 'unit',
      testEnvironment: 'node',
      rootDir: __dirname,
      testMatch: UNIT_FOLDERS.map((folder) => `<rootDir>/test/${folder}/**/*.test.ts`),
      transform,
      modulePathIgnorePatterns,
    },
    {
      displayName: 'integration',
      testEnvironment: 'node',
      rootDir: __dirname,
      roots: ['<rootDir>/test'],
      testMatch: ['**/*.test.ts'],
      // test/cluster/ runs on a real Temporal cluster of its own: `npm run test:cluster` (jest.cluster.config.js).
      testPathIgnorePatterns: ['/node_modules/', '<rootDir>/test/cluster/', ...UNIT_FOLDERS.map((folder) => `<rootDir>/test/${folder}/`)],
      transform,
      modulePathIgnorePatterns,
      globalSetup: '<rootDir>/test/setup/global-setup.ts',
      globalTeardown: '<rootDir>/test/setup/global-teardown.ts',
      setupFiles: ['<rootDir>/test/setup/per-file.ts'],
    },
  ].filter((project) => !tier || project.displayName === tier),
};
