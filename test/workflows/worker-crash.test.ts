// A worker process SIGKILLed mid-rollout and started again: the injection completes, no agent acts on it twice,
// and every agent is accounted for. The worker is the real entry point (dist/src/worker/main.js, built by npm test).
import { ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { AgentRef } from '../../src/docker';
import { SwarmProgress } from '../../src/shared/injection-types';
import { progressQuery } from '../../workflows';
import { startAgents, TestAgents } from '../support/agents';
import { startTestInjector, TestInjector } from '../support/injector';
import { testTemporalAddress } from '../support/temporal';
import { formatSigningKey } from '../../src/signing/keys';

const PROJECT_ROOT = path.resolve(__dirname, '..', '..');
const WORKER_ENTRY = path.join(PROJECT_ROOT, 'dist', 'src', 'worker', 'main.js');
const LOG_PATH = '/app/logs/execution.log';
const MAX_LOG_READ_BYTES = 4 * 1024 * 1024;

let agents: TestAgents;
let injector: TestInjector;
const workers: ChildProcess[] = [];

beforeAll(async () => {
  if (!existsSync(WORKER_ENTRY)) throw new Error(`${WORKER_ENTRY} is missing: run \`npm run build\` first (npm test does)`);
  agents = await startAgents(8, { name: 'crash' });
  // No in-process workers: the worker under test is a separate process.
  injector = await startTestInjector({ signingKey: agents.signingKey, workers: false });
}, 180_000);

afterAll(async () => {
  for (const worker of workers) if (worker.exitCode === null) worker.kill('SIGKILL');
  await injector?.stop();
  await agents?.remove();
});

function startWorkerProcess(): ChildProcess {
  const child = spawn(process.execPath, [WORKER_ENTRY], {
    env: {
      ...process.env,
      TEMPORAL_ADDRESS: testTemporalAddress(),
      OPENCLAW_TASK_QUEUE: injector.config.taskQueue,
      OPENCLAW_SIGNING_KEY: formatSigningKey(agents.signingKey),
      OPENCLAW_LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  child.stderr?.on('data', () => undefined);
  workers.push(child);
  return child;
}

async function waitFor(injectionId: string, ready: (p: SwarmProgress) => boolean): Promise<SwarmProgress> {
  const handle = injector.client.workflow.getHandle(injectionId);
  const deadline = Date.now() + 120_000;
  for (;;) {
    const progress = await handle.query(progressQuery, { limit: 100 }).catch(() => null);
    if (progress && ready(progress)) return progress;
    if (Date.now() > deadline) throw new Error(`progress never matched: ${JSON.stringify(progress?.counts)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Final trace lines the agent itself wrote for this reload id: more than one would mean it acted twice. */
async function finalLinesFor(agent: AgentRef, reloadId: string): Promise<number> {
  const log = await agents.adapter.readFile(agent.containerId, LOG_PATH, MAX_LOG_READ_BYTES);
  if (!log.found) return 0;
  return log.content
    .toString('utf8')
    .split('\n')
    .filter((line) => line.includes(`"injectionId":"${reloadId}"`) && line.includes('"final":true')).length;
}

it('completes after the worker is killed mid-rollout and restarted; no agent is injected twice', async () => {
  startWorkerProcess();
  const injectionId = `crash-${Date.now()}`;
  const handle = await injector.startSwarm({
    injectionId,
    source: 'SIMULATE_WORK BY 1s {\n  MAX_PARALLEL: 3\n  CANARY: 0\n  RETRIES: 5\n}',
    targets: { agentIds: agents.agents.map((a) => a.agentId) },
  });
  await waitFor(injectionId, (p) => p.counts.injected >= 2 && p.counts.running > 0);
  const [first] = workers;
  first.kill('SIGKILL');
  await new Promise((resolve) => first.once('exit', resolve));
  startWorkerProcess();

  const result = await handle.result();
  expect(result.status).toBe('succeeded');
  expect(result.counts).toMatchObject({ total: 8, injected: 8, failed: 0 });
  for (const agent of agents.agents) {
    expect((await agents.channel.current(agent.containerId))?.programId).toBe(injectionId);
    expect(await finalLinesFor(agent, injectionId)).toBe(1);
  }
}, 240_000);
