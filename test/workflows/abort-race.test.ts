// An abort that reaches an agent's child while its local steps run. The steps (snapshot … verify) are local activities
// of one workflow task, recorded only when that task completes; the server refuses a task that completes the workflow
// while a signal waits, and the retried task replays the abort before the first step. The agent was changed all the
// same, so the child must find that out from the agent and roll it back, not report "nothing changed".
import type { AgentChannel } from '../../src/docker';
import type { AgentRef } from '../../src/docker';
import { childWorkflowId } from '../../src/shared/injection-types';
import { abortSignal, agentInjectionWorkflow } from '../../workflows';
import { startAgents, TestAgents } from '../support/agents';
import { waitUntil } from '../support/faults';
import { startTestInjector, TestInjector } from '../support/injector';
import { replayAndSave } from '../support/temporal';

/**
 * Holds the workers' first trace read of one reload (v1: the log; v2: the agent's answer) until released: by then the
 * agent has its program and signal.
 */
class TraceGate {
  reloadId = '';
  entered = false;
  private release!: () => void;
  private readonly released = new Promise<void>((resolve) => (this.release = resolve));

  wrap(channel: AgentChannel): AgentChannel {
    const hold = async (reloadId: string) => {
      if (reloadId === this.reloadId && !this.entered) {
        this.entered = true;
        await this.released;
      }
    };
    return {
      ...channel,
      readTrace: async (containerId, reloadId, fromOffset, options) => {
        await hold(reloadId);
        return channel.readTrace(containerId, reloadId, fromOffset, options);
      },
      readOutcome: async (containerId, reloadId, options) => {
        await hold(reloadId);
        return channel.readOutcome(containerId, reloadId, options);
      },
    };
  }

  open(): void {
    this.release();
  }
}

let agents: TestAgents;
let injector: TestInjector;
const gate = new TraceGate();

beforeAll(async () => {
  agents = await startAgents(1, { name: 'abortrace' });
  injector = await startTestInjector({ signingKey: agents.signingKey, wrapWorkerChannel: (channel) => gate.wrap(channel) });
}, 180_000);

afterAll(async () => {
  gate.open();
  await injector?.stop();
  await agents?.remove();
});

async function programOf(agent: AgentRef): Promise<string | null> {
  return (await injector.channel.current(agent.containerId))?.programId ?? null;
}

it('rolls back an agent whose steps ran in a workflow task the abort made the server refuse', async () => {
  const [agent] = agents.agents;
  const before = await injector.runSwarm({ injectionId: `race-base-${Date.now()}`, source: 'OPTIMIZE_THROUGHPUT { CANARY: 0 }', targets: { agentIds: [agent.agentId] } });
  expect(before.status).toBe('succeeded');
  const previous = await programOf(agent);
  expect(previous).not.toBeNull();

  const injectionId = `race-${Date.now()}`;
  gate.reloadId = injectionId;
  const handle = await injector.startSwarm({ injectionId, source: 'REDUCE_COSTS BY 15% { CANARY: 0 }', targets: { agentIds: [agent.agentId] } });
  await waitUntil(async () => gate.entered, 'the child to reach its trace step', 60_000);
  // Snapshot, inject and reload ran: the agent switches to the new program while the child's task is still open.
  await waitUntil(async () => (await injector.channel.current(agent.containerId))?.reloadId === injectionId, 'the agent to switch', 30_000);

  await handle.signal(abortSignal, 'operator said stop');
  // The child's history shows the abort only once its open task ends; the swarm's shows that the server took it.
  await waitUntil(
    async () => ((await handle.fetchHistory()).events ?? []).some((e) => e.externalWorkflowExecutionSignaledEventAttributes),
    'the swarm to pass the abort on to the child',
    30_000,
  );
  gate.open();
  const child = injector.client.workflow.getHandle<typeof agentInjectionWorkflow>(childWorkflowId(injectionId, agent.agentId));

  const result = await handle.result();
  expect(result.status).toBe('aborted');
  expect(result.agents).toEqual([expect.objectContaining({ agentId: agent.agentId, outcome: 'rolled-back' })]);
  expect(result.counts.injected).toBe(0);
  expect(await programOf(agent)).toBe(previous);

  // The race happened as described: the first task was refused, and the retried one recorded no forward step.
  const events = (await child.fetchHistory()).events ?? [];
  expect(events.some((e) => e.workflowTaskFailedEventAttributes)).toBe(true);
  const agentResult = await child.result();
  expect(agentResult).toMatchObject({ outcome: 'rolled-back', error: { code: 'ABORTED' }, trace: null, previousProgramId: previous });
  expect(agentResult.timings.map((t) => t.step)).not.toContain('reload');
  expect(agentResult.rollbackTrace?.final?.status).toBe('completed');
  await replayAndSave(childWorkflowId(injectionId, agent.agentId));
}, 180_000);
