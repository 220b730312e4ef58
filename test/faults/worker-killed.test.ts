// The worker process SIGKILLed at five different points of a 30-agent rollout (right after start, after some agents
// are injected, twice while an agent is being rolled back, late in the rollout), restarted each time: the injection
// completes, every agent runs the new program or is back on its old one, and no agent acted twice on a reload id.
import type { WorkflowHandle } from '@temporalio/client';
import type { AgentRef } from '../../src/docker';
import { childWorkflowId } from '../../src/shared/injection-types';
import type { swarmInjectionWorkflow } from '../../workflows';
import { startAgents, TestAgents } from '../support/agents';
import { assertWorkerBuilt, expectAccountedFor, expectAgentsRun, pendingActivities, waitForProgress, waitUntil, WorkerProcesses } from '../support/faults';
import { startTestInjector, TestInjector } from '../support/injector';
import { testTemporalAddress } from '../support/temporal';

const AGENT_COUNT = 30;

// One retry: the kill points "while an agent is being rolled back" need a pending rollbackAgent activity to be seen,
// and under compare-and-swap rollbacks a failing agent that reverted itself is undone in well under a second, so the
// poll can miss every window (seen once in a fresh-clone run, after passing in the run before). The retry logs the
// first failure; making that window observable for certain is open work (issue 12 note).
jest.retryTimes(1, { logErrorsBeforeRetry: true });
const FAILING_INDEXES = [6, 13, 22];

let agents: TestAgents;
let injector: TestInjector;
let workers: WorkerProcesses;

beforeAll(async () => {
  assertWorkerBuilt();
  agents = await startAgents(AGENT_COUNT, { name: 'kill' });
  injector = await startTestInjector({ signingKey: agents.signingKey, workers: false });
  workers = new WorkerProcesses({ temporalAddress: testTemporalAddress(), taskQueue: injector.config.taskQueue, signingKey: agents.signingKey });
}, 240_000);

afterAll(async () => {
  await workers?.killAll();
  await injector?.stop();
  await agents?.remove();
});

const ids = (refs: AgentRef[]) => refs.map((a) => a.agentId);

it('survives five SIGKILLs of its worker: completes, every agent accounted for, none acted twice', async () => {
  workers.start();
  // A baseline that takes 2 s to run, so that each rollback (which re-runs it) is long enough to be caught.
  const baselineId = `kill-base-${Date.now()}`;
  const baseline = await injector.runSwarm({
    injectionId: baselineId,
    source: 'SIMULATE_WORK BY 2s {\n  MAX_PARALLEL: 30\n  CANARY: 0\n}',
    targets: { agentIds: ids(agents.agents) },
  });
  expect(baseline.status).toBe('succeeded');

  const failing = new Set(FAILING_INDEXES.map((i) => agents.agents[i].agentId));
  const condition = [...failing].map((id) => `agent.agent_id == "${id}"`).join(' or ');
  const injectionId = `kill-${Date.now()}`;
  const source = [
    'SIMULATE_WORK BY 1s {',
    '  MAX_PARALLEL: 4',
    '  CANARY: 0',
    '  RETRIES: 6',
    '  MAX_FAILURES: 5',
    '}',
    `WHEN ${condition} {`,
    '  SIMULATE_FAILURE { MESSAGE: "planned failure" }',
    '}',
  ].join('\n');
  const handle: WorkflowHandle<typeof swarmInjectionWorkflow> = await injector.startSwarm({ injectionId, source, targets: { agentIds: ids(agents.agents) } });

  const killPoints: string[] = [];
  const killAndRestart = async (point: string) => {
    await workers.kill();
    killPoints.push(point);
    workers.start();
  };
  const client = injector.client;
  const rollbackPendingIn = (exclude: Set<string>) =>
    waitUntil(async () => {
      for (const agentId of failing) {
        if (exclude.has(agentId)) continue;
        if ((await pendingActivities(client, childWorkflowId(injectionId, agentId))).some((a) => a.type === 'rollbackAgent')) return agentId;
      }
      return undefined;
    }, 'an agent being rolled back', 240_000);

  await killAndRestart('right after the swarm workflow started');
  await waitForProgress(client, injectionId, (p) => p.counts.injected >= 3, '3 agents injected', 240_000);
  await killAndRestart('after 3 agents were injected');
  const rolledBackAtKill = new Set<string>();
  const first = await rollbackPendingIn(rolledBackAtKill);
  rolledBackAtKill.add(first);
  await killAndRestart(`while ${first} was being rolled back`);
  await waitForProgress(client, injectionId, (p) => p.counts.injected >= 15, '15 agents injected', 240_000);
  await killAndRestart('after 15 agents were injected');
  const second = await rollbackPendingIn(rolledBackAtKill);
  await killAndRestart(`while ${second} was being rolled back`);

  const result = await handle.result();
  expect(killPoints).toHaveLength(5);
  expect(result.status).toBe('partially-succeeded');
  expect(result.counts).toMatchObject({ total: AGENT_COUNT, injected: AGENT_COUNT - failing.size, rolledBack: failing.size, failed: failing.size });
  const children = await expectAccountedFor(client, result, agents.agents);
  for (const agentId of failing) expect(children.get(agentId)?.error?.code).toBe('PROGRAM_FAILED');
  await expectAgentsRun(injector.channel, agents.adapter, injectionId, agents.agents, (a) => (failing.has(a.agentId) ? baselineId : injectionId));
  console.log(`worker-killed: ${killPoints.length} SIGKILLs survived (${killPoints.join('; ')}), ${workers.count} worker processes, ${AGENT_COUNT} agents accounted for`);
}, 600_000);
