// Agent containers lost mid-injection — one killed, one paused, one removed — while their program runs: each of those
// agents fails cleanly and its record says what happened to it (the paused one is rolled back once thawed); the other agents are injected as if nothing happened.
import Docker from 'dockerode';
import type { AgentRef } from '../../src/docker';
import { dockerodeFor } from '../../src/docker/dockerode-adapter';
import { childWorkflowId } from '../../src/shared/injection-types';
import { startAgents, testDockerConnection, TestAgents } from '../support/agents';
import { agentStarted, expectAccountedFor, expectAgentsRun, finalLineCounts, pendingActivities, waitUntil } from '../support/faults';
import { startTestInjector, TestInjector } from '../support/injector';

const AGENT_COUNT = 9;

let agents: TestAgents;
let injector: TestInjector;
let docker: Docker;
let paused: AgentRef | undefined;

beforeAll(async () => {
  agents = await startAgents(AGENT_COUNT, { name: 'lost' });
  injector = await startTestInjector({ signingKey: agents.signingKey });
  docker = dockerodeFor(testDockerConnection());
}, 240_000);

afterAll(async () => {
  if (paused) await docker.getContainer(paused.containerId).unpause().catch(() => undefined);
  await injector?.stop();
  await agents?.remove();
});

const ids = (refs: AgentRef[]) => refs.map((a) => a.agentId);

it('a killed, a paused and a removed agent each fail cleanly and are accounted for; the rest are injected', async () => {
  const baselineId = `lost-base-${Date.now()}`;
  expect((await injector.runSwarm({ injectionId: baselineId, source: 'OPTIMIZE_THROUGHPUT {\n  MAX_PARALLEL: 9\n  CANARY: 0\n}', targets: { agentIds: ids(agents.agents) } })).status).toBe('succeeded');

  const [killed, pausedAgent, removed, ...healthy] = agents.agents;
  const injectionId = `lost-${Date.now()}`;
  const handle = await injector.startSwarm({
    injectionId,
    source: 'SIMULATE_WORK BY 6s {\n  MAX_PARALLEL: 9\n  CANARY: 0\n  MAX_FAILURES: 3\n  RETRIES: 2\n  TRACE_TIMEOUT: 20s\n}',
    targets: { agentIds: ids(agents.agents) },
  });
  // Strike only once all three are running the new program: the fault lands mid-injection, not before it.
  await waitUntil(
    async () => (await Promise.all([killed, pausedAgent, removed].map((a) => agentStarted(agents.adapter, a.containerId, injectionId)))).every(Boolean),
    'the three agents running the injection',
  );
  await docker.getContainer(killed.containerId).kill();
  await docker.getContainer(pausedAgent.containerId).pause();
  paused = pausedAgent;
  await docker.getContainer(removed.containerId).remove({ force: true });

  // The paused agent's rollback keeps retrying while it is frozen; thaw it once a retry has been seen.
  await waitUntil(
    async () => (await pendingActivities(injector.client, childWorkflowId(injectionId, pausedAgent.agentId))).some((a) => a.type === 'rollbackAgent' && a.attempt >= 2),
    'the paused agent\'s rollback retrying',
  );
  await docker.getContainer(pausedAgent.containerId).unpause();
  paused = undefined;
  const result = await handle.result();

  expect(result.status).toBe('partially-succeeded');
  expect(result.counts).toMatchObject({ total: AGENT_COUNT, injected: AGENT_COUNT - 3, failed: 3 });
  const children = await expectAccountedFor(injector.client, result, agents.agents);
  const outcome = (a: AgentRef) => result.agents.find((row) => row.agentId === a.agentId)?.outcome;

  // Killed: the program was swapped in and then cut off; the container is stopped so the rollback cannot run, and
  // the record says so. The agent itself (read from its stopped container) still names the injection.
  expect(outcome(killed)).toBe('rollback-failed');
  expect(children.get(killed.agentId)?.rollbackError).toBeDefined();
  expect((await injector.channel.current(killed.containerId))?.programId).toBe(injectionId);
  expect((await finalLineCounts(agents.adapter, killed.containerId)).get(injectionId) ?? 0).toBe(0);

  // Removed: nothing left to read or roll back; the record says the rollback failed, never that it succeeded.
  expect(outcome(removed)).toBe('rollback-failed');
  expect(children.get(removed.agentId)?.rollbackError).toBeDefined();
  expect(await agents.adapter.findAgent(removed.agentId)).toBeNull();

  // Paused: the forward step fails at once (the container is not running), the rollback retries until the container
  // is thawed, then puts the old program back.
  expect(outcome(pausedAgent)).toBe('rolled-back');
  expect(children.get(pausedAgent.agentId)?.error?.code).toBe('CONTAINER_NOT_RUNNING');
  await expectAgentsRun(injector.channel, agents.adapter, injectionId, [pausedAgent], () => baselineId);

  await expectAgentsRun(injector.channel, agents.adapter, injectionId, healthy, () => injectionId);
  const errors = [killed, pausedAgent, removed].map((a) => `${a.agentId}: ${outcome(a)} (${children.get(a.agentId)?.error?.code}; rollback ${children.get(a.agentId)?.rollbackError?.code ?? 'ok'})`);
  console.log(`agent-container-lost: ${errors.join('; ')}; ${healthy.length} healthy injected (child ${childWorkflowId(injectionId, healthy[0].agentId)})`);
}, 300_000);
