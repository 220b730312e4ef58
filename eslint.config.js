// Lint: typescript-eslint everywhere; Temporal's determinism rules for workflows/ (no Node built-ins, no Docker, no floating promises).
const tseslint = require('typescript-eslint');
const { builtinModules } = require('node:module');

const nodeBuiltins = [...builtinModules, ...builtinModules.map((m) => `node:${m}`)];

module.exports = tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', '.tools/**', '.data/**', 'coverage/**', '**/*.js'] },
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: __dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // Workflow code is replayed: it must be deterministic and must not reach the outside world.
    files: ['workflows/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: nodeBuiltins.map((name) => ({ name, message: 'workflows run in a deterministic sandbox: no Node built-ins; do I/O in an activity' })),
          patterns: [
            { group: ['dockerode', 'tar-stream', 'express', '**/src/docker/**', '**/src/gateway/**', '**/src/agent/**'], message: 'workflows must not touch Docker, HTTP or agents: call an activity' },
            { group: ['@temporalio/activity', '@temporalio/worker', '@temporalio/client'], message: 'workflows import only @temporalio/workflow and @temporalio/common' },
            { group: ['**/activities', '**/activities/**'], allowTypeImports: true, message: 'workflows import activity *types* only: `import type { … } from "../activities"`' },
          ],
        },
      ],
      'no-restricted-globals': [
        'error',
        { name: 'setInterval', message: 'use workflow.sleep / condition' },
        { name: 'process', message: 'no process access in workflows' },
      ],
      '@typescript-eslint/consistent-type-imports': ['error', { prefer: 'type-imports' }],
    },
  },
);
