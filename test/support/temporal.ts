// Test access to the run's Temporal dev server (started once in test/setup/global-setup.ts) and its workflow bundle.
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { NativeConnection, Worker } from '@temporalio/worker';
import { Config, loadConfig } from '../../src/config';

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run the tests through jest so test/setup/global-setup.ts starts the dev server`);
  return value;
}

export const testTemporalAddress = (): string => required('OPENCLAW_TEST_TEMPORAL_ADDRESS');
export const testWorkflowBundle = (): { bundlePath: string } => ({ bundlePath: required('OPENCLAW_TEST_WORKFLOW_BUNDLE') });
export const testRunDir = (): string => required('OPENCLAW_TEST_RUN_DIR');

/** A config for one test: its own task queue (so tests never steal each other's tasks) and the run's dev server. */
export function testConfig(overrides: Record<string, string> = {}): Config {
  return loadConfig({
    TEMPORAL_ADDRESS: testTemporalAddress(),
    OPENCLAW_TASK_QUEUE: `test-${randomUUID().slice(0, 8)}`,
    OPENCLAW_DATA_DIR: testRunDir(),
    OPENCLAW_INSECURE_DEV: '1',
    OPENCLAW_LOG_LEVEL: 'warn',
    ...overrides,
  });
}

/** A client of the run's dev server, or of `address` (a test's own server). */
export async function testClient(address = testTemporalAddress()): Promise<{ client: Client; close(): Promise<void> }> {
  const connection = await Connection.connect({ address });
  return { client: new Client({ connection }), close: () => connection.close() };
}

export async function testNativeConnection(): Promise<NativeConnection> {
  return NativeConnection.connect({ address: testTemporalAddress() });
}

/**
 * Replays a closed workflow's history against the current workflow code, proving the scenario deterministic, and
 * writes it to the run directory (`scripts/save-histories.sh` turns those into the fixtures that
 * test/workflows/replay.test.ts replays after every change). The history is exported with the temporal CLI: the form
 * operators export histories in, and the form the fixtures keep.
 */
export async function replayAndSave(workflowId: string): Promise<void> {
  const { stdout } = await promisify(execFile)(
    required('OPENCLAW_TEST_TEMPORAL_CLI'),
    ['workflow', 'show', '--workflow-id', workflowId, '--address', testTemporalAddress(), '--output', 'json'],
    { maxBuffer: 64 * 1024 * 1024 },
  );
  writeFileSync(path.join(testRunDir(), `history-${workflowId.replace(/\//g, '~')}.json`), stdout);
  await Worker.runReplayHistory({ workflowBundle: { codePath: testWorkflowBundle().bundlePath } }, historyFromJSON(JSON.parse(stdout)), workflowId);
}
