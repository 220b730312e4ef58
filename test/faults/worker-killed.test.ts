// The worker process SIGKILLed at five different points of a 30-agent rollout (right after start, after some agents
// are injected, twice while an agent is being rolled back, late in the rollout), restarted each time: the injection
// completes, every agent runs the new program or is back on its old one, and no agent acted twice on a reload id.
import type { WorkflowHandle } from '@temporalio/client';
import type { AgentRef } from '../../src/docker';
import { childWorkflowId, rollbackReloadId } from '../../src/shared/injection-types';
import type { swarmInjectionWorkflow } from '../../workflows';
import { startAgents, TestAgents } from '../support/agents';
import { agentLog, assertWorkerBuilt, expectAccountedFor, expectAgentsRun, pendingActivities, waitForProgress, waitUntil, WorkerProcesses } from '../support/faults';
import { startTestInjector, TestInjector } from '../support/injector';
import { testTemporalAddress } from '../support/temporal';

const AGENT_COUNT = 30;

/**
 * These agents write no final line within TRACE_TIMEOUT, so the injector rolls them back (an agent whose program
 * fails puts its old program back itself, leaving the injector nothing to undo, in well under a second). Their
 * rollback re-runs their baseline, which takes ROLLBACK_RUN_S: the kill points "while an agent is being rolled back"
 * wait for the agent to start that run and kill well inside it, and then prove the worker died with the rollback
 * still pending.
 */
const FAILING_INDEXES = [6, 13, 22];
const TRACE_TIMEOUT_S = 15;
const ROLLBACK_RUN_S = 8;
const AGENT_RUN_LIMIT_MS = 15 * 60_000;

let agents: TestAgents;
let injector: TestInjector;
let workers: WorkerProcesses;

beforeAll(async () => {
  assertWorkerBuilt();
  // A run's wall-clock limit past the failing agents' 10 minutes: they must never end their run themselves (a worker
  // killed while their trace is read can stretch the wait past the default minute), only by the rollback.
  agents = await startAgents(AGENT_COUNT, { name: 'kill', env: { OPENCLAW_AGENT_TIME_LIMIT_MS: String(AGENT_RUN_LIMIT_MS) } });
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
  const failingAgents = FAILING_INDEXES.map((i) => agents.agents[i]);
  const failing = new Set(ids(failingAgents));
  const condition = [...failing].map((id) => `agent.agent_id == "${id}"`).join(' or ');
  // The baseline the failing agents go back to runs ROLLBACK_RUN_S: each of their rollbacks re-runs it.
  const baselineId = `kill-base-${Date.now()}`;
  const baseline = await injector.runSwarm({
    injectionId: baselineId,
    source: `OPTIMIZE_THROUGHPUT {\n  MAX_PARALLEL: 30\n  CANARY: 0\n}\nWHEN ${condition} {\n  SIMULATE_WORK BY ${ROLLBACK_RUN_S}s\n}`,
    targets: { agentIds: ids(agents.agents) },
  });
  expect(baseline.status).toBe('succeeded');

  const injectionId = `kill-${Date.now()}`;
  const source = [
    'SIMULATE_WORK BY 1s {',
    '  MAX_PARALLEL: 4',
    '  CANARY: 0',
    '  RETRIES: 6',
    '  MAX_FAILURES: 5',
    `  TRACE_TIMEOUT: ${TRACE_TIMEOUT_S}s`,
    '}',
    `WHEN ${condition} {`,
    '  SIMULATE_WORK BY 10m',
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
  const rollbackReload = rollbackReloadId(injectionId);
  /** A failing agent that has started its rollback's run and not finished it: its rollbackAgent is mid-way. */
  const rollbackRunningOn = (exclude: Set<string>) =>
    waitUntil(async () => {
      for (const agent of failingAgents) {
        if (exclude.has(agent.agentId)) continue;
        const lines = (await agentLog(agents.adapter, agent.containerId)).filter((line) => line.injectionId === rollbackReload);
        if (lines.some((line) => line.status === 'executing') && !lines.some((line) => line.final === true)) return agent.agentId;
      }
      return undefined;
    }, 'an agent being rolled back', 240_000);
  const killDuringRollbackOf = async (agentId: string) => {
    await workers.kill();
    // The worker died with the rollback unfinished: the server still holds its activity, to be retried.
    expect((await pendingActivities(client, childWorkflowId(injectionId, agentId))).map((a) => a.type)).toContain('rollbackAgent');
    killPoints.push(`while ${agentId} was being rolled back`);
    workers.start();
  };

  await killAndRestart('right after the swarm workflow started');
  await waitForProgress(client, injectionId, (p) => p.counts.injected >= 3, '3 agents injected', 240_000);
  await killAndRestart('after 3 agents were injected');
  const rolledBackAtKill = new Set<string>();
  const first = await rollbackRunningOn(rolledBackAtKill);
  rolledBackAtKill.add(first);
  await killDuringRollbackOf(first);
  await waitForProgress(client, injectionId, (p) => p.counts.injected >= 15, '15 agents injected', 240_000);
  await killAndRestart('after 15 agents were injected');
  const second = await rollbackRunningOn(rolledBackAtKill);
  await killDuringRollbackOf(second);

  const result = await handle.result();
  expect(killPoints).toHaveLength(5);
  expect(result.status).toBe('partially-succeeded');
  expect(result.counts).toMatchObject({ total: AGENT_COUNT, injected: AGENT_COUNT - failing.size, rolledBack: failing.size, failed: failing.size });
  const children = await expectAccountedFor(client, result, agents.agents);
  for (const agentId of failing) expect(children.get(agentId)?.error?.code).toBe('TRACE_TIMEOUT');
  await expectAgentsRun(injector.channel, agents.adapter, injectionId, agents.agents, (a) => (failing.has(a.agentId) ? baselineId : injectionId));
  console.log(`worker-killed: ${killPoints.length} SIGKILLs survived (${killPoints.join('; ')}), ${workers.count} worker processes, ${AGENT_COUNT} agents accounted for`);
}, 600_000);
