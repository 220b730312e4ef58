// Jest global setup: one Temporal dev server and one workflow bundle for the whole run; Docker must answer.
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { findTemporalCli, startScratchDevServer, DevServer } from '../../src/temporal/dev-server';
import { assertDockerReachable } from './docker-check';
import { bundleInjectorWorkflows } from '../../src/worker/worker';

const PROJECT_ROOT = path.resolve(__dirname, '..', '..');

declare global {
  var __OPENCLAW_DEV_SERVER__: DevServer | undefined;
}

export default async function globalSetup(): Promise<void> {
  const runDir = path.join(os.tmpdir(), `openclaw-test-${process.pid}`);
  mkdirSync(runDir, { recursive: true });

  await assertDockerReachable();

  const cliPath = findTemporalCli(process.env.TEMPORAL_CLI_PATH, PROJECT_ROOT);
  const server = await startScratchDevServer(cliPath, runDir);
  globalThis.__OPENCLAW_DEV_SERVER__ = server;

  const { code } = await bundleInjectorWorkflows(path.join(PROJECT_ROOT, 'workflows', 'index.ts'), {
    trace() {},
    debug() {},
    info() {},
    warn: console.warn,
    error: console.error,
    log() {},
  });
  const bundlePath = path.join(runDir, 'workflow-bundle.js');
  writeFileSync(bundlePath, code);

  process.env.OPENCLAW_TEST_TEMPORAL_ADDRESS = server.address;
  process.env.OPENCLAW_TEST_TEMPORAL_CLI = cliPath;
  process.env.OPENCLAW_TEST_WORKFLOW_BUNDLE = bundlePath;
  process.env.OPENCLAW_TEST_RUN_DIR = runDir;
}
