// The standalone worker as an operator runs it (`node dist/src/worker/main.js`): the Temporal SDK's metrics are served
// for Prometheus at OPENCLAW_SDK_METRICS_ADDRESS beside the injector's own (step latencies, outcomes), and its logs are
// JSON lines carrying the ids of what they describe.
import { ChildProcess, execFile, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { formatSigningKey } from '../../src/signing/keys';
import { freePort } from '../../src/temporal/dev-server';
import { dockerHostTaskQueue } from '../../src/shared/task-queues';
import { AGENT_OUTCOMES_METRIC, SDK_METRICS_USED, STEP_DURATION_METRIC } from '../../src/telemetry/metric-names';
import { pingWorkflow } from '../../workflows';
import { startAgents, testDockerConnection } from '../support/agents';
import { startTestInjector } from '../support/injector';
import { testSigningKey } from '../support/signing';
import { testClient, testRunDir, testTemporalAddress } from '../support/temporal';

const ROOT = path.resolve(__dirname, '..', '..');
const WORKER_ENTRY = path.join(ROOT, 'dist', 'src', 'worker', 'main.js');
/** Sources whose compiled form this test runs; when one is newer than the build, the test rebuilds first. */
const SOURCES_RUN = [
  'src/worker/main.ts',
  'src/worker/worker.ts',
  'src/runtime.ts',
  'src/config.ts',
  'src/temporal/sdk-logging.ts',
  'src/telemetry/activity-metrics.ts',
  'src/telemetry/metric-names.ts',
  'workflows/interceptors/outcome-metrics.ts',
  'activities/docker-activities.ts',
];
const BUILD_TIMEOUT_MS = 240_000;
/** Start-up bundles the workflow code with webpack: slow on a busy 2-core machine. */
const WORKER_READY_TIMEOUT_MS = 90_000;
const WORKER_STOP_TIMEOUT_MS = 30_000;
const PING_TIMEOUT_MS = 30_000;
const MAX_CAPTURED_STDERR_CHARS = 1024 * 1024;
const SWARM_AGENTS = 3;
const SWARM_TIMEOUT_MS = 120_000;

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

/** Sum of a Prometheus sample over every series whose labels include `labels` (0 when there is none). */
function sampleSum(metrics: string, name: string, labels: Record<string, string>): number {
  let sum = 0;
  for (const line of metrics.split('\n')) {
    const match = /^([A-Za-z_:][\w:]*)(?:\{([^}]*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const series = match[2] ?? '';
    if (Object.entries(labels).every(([key, value]) => series.includes(`${key}="${value}"`))) sum += Number(match[3]);
  }
  return sum;
}

async function waitFor(what: string, timeoutMs: number, check: () => boolean, child: ChildProcess, stderr: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (child.exitCode !== null) throw new Error(`the worker exited (code ${child.exitCode}) before ${what}:\n${stderr().slice(-2000)}`);
    if (Date.now() > deadline) throw new Error(`no ${what} within ${timeoutMs} ms:\n${stderr().slice(-2000)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** The built worker as a child process with only the given environment (and PATH); stderr kept, bounded. */
function startWorkerProcess(env: Record<string, string>): { child: ChildProcess; stderr(): string; stop(): Promise<void> } {
  const child = spawn(process.execPath, [WORKER_ENTRY], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'], env: { PATH: process.env.PATH, ...env } });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    if (stderr.length < MAX_CAPTURED_STDERR_CHARS) stderr += chunk.toString('utf8');
  });
  return {
    child,
    stderr: () => stderr,
    stop: async () => {
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), WORKER_STOP_TIMEOUT_MS);
      if (child.exitCode === null) await new Promise((resolve) => child.once('exit', resolve));
      clearTimeout(killer);
    },
  };
}

describe('the standalone worker process', () => {
  it('exports the SDK metrics for Prometheus and logs JSON lines with the ids of each step', async () => {
    await ensureBuilt();
    const metricsAddress = `127.0.0.1:${await freePort()}`;
    const taskQueue = `test-${randomUUID().slice(0, 8)}`;
    const worker = startWorkerProcess({
      TEMPORAL_ADDRESS: testTemporalAddress(),
      OPENCLAW_TASK_QUEUE: taskQueue,
      OPENCLAW_DOCKER_HOST_NAME: 'metrics-host',
      OPENCLAW_DATA_DIR: testRunDir(),
      OPENCLAW_SIGNING_KEY: formatSigningKey(testSigningKey()),
      OPENCLAW_SDK_METRICS_ADDRESS: metricsAddress,
      OPENCLAW_LOG_LEVEL: 'info',
    });
    const { child } = worker;
    const stderr = () => worker.stderr();
    const { client, close } = await testClient();
    try {
      await waitFor('"worker polling" log line', WORKER_READY_TIMEOUT_MS, () => stderr().includes('"msg":"worker polling"'), child, stderr);

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
      const lines = parseLines(stderr());
      expect(stderr().split('\n').filter((l) => l.trim() !== '' && !l.startsWith('{'))).toEqual([]);
      expect(lines.find((l) => l.msg === 'Temporal SDK metrics exported')).toMatchObject({ url: `http://${metricsAddress}/metrics` });
      expect(lines.find((l) => l.msg === 'docker step done')).toMatchObject({
        injectionId: workflowId,
        activity: 'dockerVersion',
        host: 'metrics-host',
        taskQueue: dockerHostTaskQueue(taskQueue, 'metrics-host'),
      });
    } finally {
      await close();
      await worker.stop();
    }
    expect(child.exitCode).toBe(0);
  }, BUILD_TIMEOUT_MS + WORKER_READY_TIMEOUT_MS + PING_TIMEOUT_MS);

  it('counts each step of a swarm injection in its latency histogram and each agent by outcome', async () => {
    await ensureBuilt();
    const agents = await startAgents(SWARM_AGENTS, { name: 'metrics' });
    const metricsAddress = `127.0.0.1:${await freePort()}`;
    const taskQueue = `test-${randomUUID().slice(0, 8)}`;
    const hostName = 'metrics-swarm-host';
    const worker = startWorkerProcess({
      TEMPORAL_ADDRESS: testTemporalAddress(),
      OPENCLAW_TASK_QUEUE: taskQueue,
      OPENCLAW_DOCKER_HOST_NAME: hostName,
      DOCKER_HOST: testDockerConnection().dockerHost,
      OPENCLAW_DATA_DIR: testRunDir(),
      OPENCLAW_SIGNING_KEY: formatSigningKey(agents.signingKey),
      OPENCLAW_SDK_METRICS_ADDRESS: metricsAddress,
    });
    const injector = await startTestInjector({ signingKey: agents.signingKey, workers: false, overrides: { OPENCLAW_TASK_QUEUE: taskQueue, OPENCLAW_DOCKER_HOST_NAME: hostName } });
    const scrape = async () => (await fetch(`http://${metricsAddress}/metrics`)).text();
    try {
      await waitFor('"worker polling" log line', WORKER_READY_TIMEOUT_MS, () => worker.stderr().includes('"msg":"worker polling"'), worker.child, worker.stderr);
      const before = await scrape();
      const result = await injector.runSwarm({
        source: 'OPTIMIZE_THROUGHPUT {\n  MAX_PARALLEL: 3\n  CANARY: 0\n}',
        targets: { agentIds: agents.agents.map((a) => a.agentId) },
      });
      expect(result.status).toBe('succeeded');
      const after = await scrape();

      const histogramCount = (metrics: string, step: string) => sampleSum(metrics, `${STEP_DURATION_METRIC}_count`, { step, result: 'ok' });
      // Each agent's steps, each timed once (the trace is read in one brief window: the program is short).
      for (const step of ['snapshotAgent', 'injectProgram', 'reloadAgent', 'captureTraceBriefly', 'verifyInjection']) {
        expect(histogramCount(after, step) - histogramCount(before, step)).toBe(SWARM_AGENTS);
      }
      expect(sampleSum(after, `${STEP_DURATION_METRIC}_sum`, { step: 'injectProgram' })).toBeGreaterThan(0);
      const injected = (metrics: string) => sampleSum(metrics, `${AGENT_OUTCOMES_METRIC}_total`, { outcome: 'injected' });
      expect(injected(after) - injected(before)).toBe(SWARM_AGENTS);
      // The SDK's metrics the Grafana dashboard reads are on the same endpoint.
      for (const name of SDK_METRICS_USED) expect(after).toMatch(new RegExp(`^${name}\\{`, 'm'));
    } finally {
      await injector.stop();
      await worker.stop();
      await agents.remove();
    }
  }, BUILD_TIMEOUT_MS + WORKER_READY_TIMEOUT_MS + SWARM_TIMEOUT_MS);
});
