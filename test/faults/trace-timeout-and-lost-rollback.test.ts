// Two faults where the agent never confirms: one that writes no final line within TRACE_TIMEOUT (rolled back), and
// one whose container disappears after it was injected, so the swarm's rollback cannot reach it (reported, never
// passed off as success).
import { dockerodeFor } from '../../src/docker/dockerode-adapter';
import { startAgents, testDockerConnection, TestAgents } from '../support/agents';
import { expectAccountedFor, expectAgentsRun, finalLineCounts, waitForProgress } from '../support/faults';
import { startTestInjector, TestInjector } from '../support/injector';
import { agentIds, baseline } from '../support/swarm';

let agents: TestAgents;
let injector: TestInjector;

beforeAll(async () => {
  agents = await startAgents(7, { name: 'notrace' });
  injector = await startTestInjector({ signingKey: agents.signingKey });
}, 240_000);

afterAll(async () => {
  await injector?.stop();
  await agents?.remove();
});

it('an agent that writes no final line within TRACE_TIMEOUT is rolled back; the others are injected', async () => {
  const refs = agents.agents.slice(0, 3);
  const [slow] = refs;
  const baselineId = await baseline(injector, refs, 'notrace');
  const injectionId = `notrace-${Date.now()}`;
  const source = [
    'OPTIMIZE_THROUGHPUT {',
    '  MAX_PARALLEL: 3',
    '  CANARY: 0',
    '  MAX_FAILURES: 1',
    '  RETRIES: 0',
    '  TRACE_TIMEOUT: 2s',
    '}',
    `WHEN agent.agent_id == "${slow.agentId}" {`,
    '  SIMULATE_WORK BY 40s',
    '}',
  ].join('\n');
  const started = Date.now();
  const result = await injector.runSwarm({ injectionId, source, targets: { agentIds: agentIds(refs) } });
  expect(result.status).toBe('partially-succeeded');
  expect(result.counts).toMatchObject({ total: 3, injected: 2, rolledBack: 1 });
  // Bounded by TRACE_TIMEOUT, not by the 40 s the program would have run.
  expect(Date.now() - started).toBeLessThan(30_000);
  const children = await expectAccountedFor(injector.client, result, refs);
  expect(children.get(slow.agentId)).toMatchObject({ outcome: 'rolled-back', error: { code: 'TRACE_TIMEOUT' } });
  await expectAgentsRun(injector.channel, agents.adapter, injectionId, refs, (a) => (a === slow ? baselineId : injectionId));
  // The run that never finished in time was ended by the rollback that superseded it: its one final line says so.
  const slowFinal = (await finalLineCounts(agents.adapter, slow.containerId)).get(injectionId);
  expect(slowFinal).toBe(1);
}, 180_000);

it('when an injected agent is gone before the swarm rolls back, the result reports the failed revert, never success', async () => {
  const refs = agents.agents.slice(3, 7);
  const [vanishing, , , failing] = refs;
  const baselineId = await baseline(injector, refs, 'gone');
  const injectionId = `gone-${Date.now()}`;
  const source = [
    'OPTIMIZE_THROUGHPUT {',
    '  MAX_PARALLEL: 1',
    '  CANARY: 0',
    '  MAX_FAILURES: 0',
    '  RETRIES: 0',
    '}',
    `WHEN agent.agent_id == "${failing.agentId}" {`,
    '  SIMULATE_WORK BY 5s',
    '  SIMULATE_FAILURE { MESSAGE: "planned failure" }',
    '}',
  ].join('\n');
  const handle = await injector.startSwarm({ injectionId, source, targets: { agentIds: agentIds(refs) } });
  await waitForProgress(injector.client, injectionId, (p) => p.agents.items.some((row) => row.agentId === vanishing.agentId && row.outcome === 'injected'), `${vanishing.agentId} injected`);
  await dockerodeFor(testDockerConnection()).getContainer(vanishing.containerId).remove({ force: true });
  const result = await handle.result();

  expect(result.status).toBe('failure-budget-exceeded');
  expect(result.counts).toMatchObject({ total: 4, injected: 0, reverted: 2, revertFailed: 1, rolledBack: 1 });
  await expectAccountedFor(injector.client, result, refs);
  const row = result.agents.find((a) => a.agentId === vanishing.agentId)!;
  expect(row.outcome).toBe('revert-failed');
  expect(row.error).toMatch(/AGENT_NOT_FOUND|no container/);
  await expectAgentsRun(injector.channel, agents.adapter, injectionId, refs.slice(1), () => baselineId);
}, 180_000);
