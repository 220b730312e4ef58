// The Temporal dev server stopped mid-rollout and started again on the same port and SQLite file: the rollout picks
// up where it was and completes. This test runs its own server (the run's server is shared by every test file).
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DevServer, freePort, startDevServer } from '../../src/temporal/dev-server';
import { startAgents, TestAgents } from '../support/agents';
import { assertWorkerBuilt, expectAccountedFor, expectAgentsRun, waitForProgress, WorkerProcesses } from '../support/faults';
import { startTestInjector, TestInjector } from '../support/injector';

const AGENT_COUNT = 10;

let agents: TestAgents;
let injector: TestInjector;
let workers: WorkerProcesses;
let server: DevServer | undefined;
let dir: string;
let serverOptions: Parameters<typeof startDevServer>[0];

beforeAll(async () => {
  assertWorkerBuilt();
  dir = mkdtempSync(path.join(os.tmpdir(), 'openclaw-server-restart-'));
  serverOptions = {
    cliPath: process.env.OPENCLAW_TEST_TEMPORAL_CLI!,
    port: await freePort(),
    uiPort: await freePort(),
    namespace: 'default',
    dbFilename: path.join(dir, 'temporal.db'),
    logFile: path.join(dir, 'temporal.log'),
    headless: true,
  };
  server = await startDevServer(serverOptions);
  agents = await startAgents(AGENT_COUNT, { name: 'srvrst' });
  injector = await startTestInjector({ signingKey: agents.signingKey, workers: false, temporalAddress: server.address });
  workers = new WorkerProcesses({ temporalAddress: server.address, taskQueue: injector.config.taskQueue, signingKey: agents.signingKey });
}, 240_000);

afterAll(async () => {
  await workers?.killAll();
  await injector?.stop();
  await server?.stop();
  await agents?.remove();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

it('continues the rollout after the server is stopped and started again on its database', async () => {
  workers.start();
  const injectionId = `srvrst-${Date.now()}`;
  const handle = await injector.startSwarm({
    injectionId,
    source: 'SIMULATE_WORK BY 1s {\n  MAX_PARALLEL: 2\n  CANARY: 0\n  RETRIES: 8\n}',
    targets: { agentIds: agents.agents.map((a) => a.agentId) },
  });
  const before = await waitForProgress(injector.client, injectionId, (p) => p.counts.injected >= 3, '3 agents injected', 180_000);

  await server!.stop();
  const downAt = Date.now();
  // While the server is down, the agents already handed their reloads keep running: let them outlive the outage.
  await new Promise((r) => setTimeout(r, 3_000));
  server = await startDevServer(serverOptions);
  const outageMs = Date.now() - downAt;

  const result = await handle.result();
  expect(result.status).toBe('succeeded');
  expect(result.counts).toMatchObject({ total: AGENT_COUNT, injected: AGENT_COUNT, failed: 0 });
  await expectAccountedFor(injector.client, result, agents.agents);
  await expectAgentsRun(injector.channel, agents.adapter, injectionId, agents.agents, () => injectionId);
  // Whatever the worker processes did across the outage, none of them had to be restarted by hand.
  expect(workers.count).toBe(1);
  console.log(`server-restarted: server down ${outageMs} ms with ${before.counts.injected}/${AGENT_COUNT} injected; rollout completed, ${AGENT_COUNT} accounted for`);
}, 420_000);
