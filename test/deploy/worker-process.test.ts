// The standalone worker as an operator runs it (`node dist/src/worker/main.js`): the Temporal SDK's metrics are served
// for Prometheus at OPENCLAW_SDK_METRICS_ADDRESS, and its logs are JSON lines carrying the ids of what they describe.
import { ChildProcess, execFile, spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { freePort } from '../../src/temporal/dev-server';
import { dockerHostTaskQueue } from '../../src/shared/task-queues';
import { pingWorkflow } from '../../workflows';
import { testClient, testRunDir, testTemporalAddress } from '../support/temporal';

const ROOT = path.resolve(__dirname, '..', '..');
const WORKER_ENTRY = path.join(ROOT, 'dist', 'src', 'worker', 'main.js');
/** Sources whose compiled form this test runs; when one is newer than the build, the test rebuilds first. */
const SOURCES_RUN = ['src/worker/main.ts', 'src/runtime.ts', 'src/config.ts', 'src/temporal/sdk-logging.ts', 'activities/docker-activities.ts'];
const BUILD_TIMEOUT_MS = 240_000;
/** Start-up bundles the workflow code with webpack: slow on a busy 2-core machine. */
const WORKER_READY_TIMEOUT_MS = 90_000;
const WORKER_STOP_TIMEOUT_MS = 30_000;
const PING_TIMEOUT_MS = 30_000;
const MAX_CAPTURED_STDERR_CHARS = 1024 * 1024;

const isFresh = (): boolean => {
  const built = existsSync(WORKER_ENTRY) ? statSync(WORKER_ENTRY).mtimeMs : 0;
  return SOURCES_RUN.every((file) => statSync(path.join(ROOT, file)).mtimeMs <= built);
};

/** `npm test` builds before jest; run alone, this test builds when dist/ is older than the sources it runs. */
async function ensureBuilt(): Promise<void> {
  if (isFresh()) return;
  const tsc = path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
  try {
    await promisify(execFile)(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { cwd: ROOT, timeout: BUILD_TIMEOUT_MS });
  } catch (err) {
    // tsc emits despite type errors elsewhere in the tree (the typecheck step reports those); fail only without output.
    if (!isFresh()) throw err;
  }
}

function parseLines(text: string): Record<string, unknown>[] {
  return text
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

async function waitFor(what: string, timeoutMs: number, check: () => boolean, child: ChildProcess, stderr: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (child.exitCode !== null) throw new Error(`the worker exited (code ${child.exitCode}) before ${what}:\n${stderr().slice(-2000)}`);
    if (Date.now() > deadline) throw new Error(`no ${what} within ${timeoutMs} ms:\n${stderr().slice(-2000)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('the standalone worker process', () => {
  it('exports the SDK metrics for Prometheus and logs JSON lines with the ids of each step', async () => {
    await ensureBuilt();
    const metricsAddress = `127.0.0.1:${await freePort()}`;
    const taskQueue = `test-${randomUUID().slice(0, 8)}`;
    const child = spawn(process.execPath, [WORKER_ENTRY], {
      cwd: ROOT,
      stdio: ['ignore', 'ignore', 'pipe'],
      env: {
        PATH: process.env.PATH,
        TEMPORAL_ADDRESS: testTemporalAddress(),
        OPENCLAW_TASK_QUEUE: taskQueue,
        OPENCLAW_DOCKER_HOST_NAME: 'metrics-host',
        OPENCLAW_DATA_DIR: testRunDir(),
        OPENCLAW_SIGNING_KEY: randomBytes(32).toString('hex'),
        OPENCLAW_SDK_METRICS_ADDRESS: metricsAddress,
        OPENCLAW_LOG_LEVEL: 'info',
      },
    });
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      if (stderr.length < MAX_CAPTURED_STDERR_CHARS) stderr += chunk.toString('utf8');
    });
    const { client, close } = await testClient();
    try {
      await waitFor('"worker polling" log line', WORKER_READY_TIMEOUT_MS, () => stderr.includes('"msg":"worker polling"'), child, () => stderr);

      const workflowId = `metrics-ping-${randomUUID().slice(0, 8)}`;
      const result = await client.workflow.execute(pingWorkflow, {
        workflowId,
        taskQueue,
        args: ['hello', dockerHostTaskQueue(taskQueue, 'metrics-host')],
        workflowExecutionTimeout: PING_TIMEOUT_MS,
      });
      expect(result.dockerHost).toBe('metrics-host');

      const response = await fetch(`http://${metricsAddress}/metrics`);
      expect(response.status).toBe(200);
      const metrics = await response.text();
      // Prometheus text format, the SDK's names, labelled with the worker's task queues.
      expect(metrics).toMatch(/^# TYPE temporal_\w+ (counter|gauge|histogram)$/m);
      expect(metrics).toMatch(new RegExp(`^temporal_workflow_completed_total\\{[^}]*task_queue="${taskQueue}"[^}]*\\} [1-9]`, 'm'));
      expect(metrics).toMatch(new RegExp(`^temporal_activity_execution_latency_\\w*count\\{[^}]*task_queue="${dockerHostTaskQueue(taskQueue, 'metrics-host')}"`, 'm'));

      // Every line on stderr is JSON; the Docker step's line names its workflow's id, host and queue.
      const lines = parseLines(stderr);
      expect(stderr.split('\n').filter((l) => l.trim() !== '' && !l.startsWith('{'))).toEqual([]);
      expect(lines.find((l) => l.msg === 'Temporal SDK metrics exported')).toMatchObject({ url: `http://${metricsAddress}/metrics` });
      expect(lines.find((l) => l.msg === 'docker step done')).toMatchObject({
        injectionId: workflowId,
        activity: 'dockerVersion',
        host: 'metrics-host',
        taskQueue: dockerHostTaskQueue(taskQueue, 'metrics-host'),
      });
    } finally {
      await close();
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), WORKER_STOP_TIMEOUT_MS);
      if (child.exitCode === null) await new Promise((resolve) => child.once('exit', resolve));
      clearTimeout(killer);
    }
    expect(child.exitCode).toBe(0);
  }, BUILD_TIMEOUT_MS + WORKER_READY_TIMEOUT_MS + PING_TIMEOUT_MS);
});
