// Swarm injections on the real dev server, against real agent containers: what each agent runs afterwards is read
// from the agent itself (its CURRENT file and its own trace), never from the workflow's word for it.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { WorkflowFailedError, WorkflowUpdateFailedError } from '@temporalio/client';
import type { AgentRef } from '../../src/docker';
import { rollbackWorkflowId, SwarmProgress } from '../../src/shared/injection-types';
import {
  abortSignal,
  agentRollbackWorkflow,
  pauseSignal,
  progressQuery,
  resumeSignal,
  setMaxParallelUpdate,
  swarmInjectionWorkflow,
} from '../../workflows';
import { LABEL_AGENT_ID, LABEL_ROLE, LABEL_ROLE_AGENT } from '../../src/agent/protocol';
import { formatTrustedKey } from '../../src/signing/keys';
import { ensureAgentImage, startAgents, TEST_LABEL, TestAgents, waitUntilReady } from '../support/agents';
import { waitForProgress } from '../support/faults';
import { startTestInjector, TestInjector } from '../support/injector';
import { agentIds, baseline, programOf as programOfAgent } from '../support/swarm';
import { replayAndSave, testTemporalAddress } from '../support/temporal';

let agents: TestAgents;
let injector: TestInjector;

beforeAll(async () => {
  agents = await startAgents(20, { name: 'swarm' });
  injector = await startTestInjector({ signingKey: agents.signingKey });
}, 180_000);

afterAll(async () => {
  await injector?.stop();
  await agents?.remove();
});

const programOf = (agent: AgentRef) => programOfAgent(injector.channel, agent);

/** Replays (and saves) the swarm's history, and one child's of each kind: proves the scenario is deterministic. */
async function replays(workflowId: string): Promise<void> {
  const result = await injector.client.workflow.getHandle<typeof swarmInjectionWorkflow>(workflowId).result().catch(() => null);
  const started = result?.agents.filter((a) => a.childWorkflowId !== null) ?? [];
  // The agent whose history shows the most: one that failed and was rolled back, else any that ran.
  const child = started.find((a) => a.outcome === 'rolled-back') ?? started[0];
  const ids = [workflowId, ...(child ? [child.childWorkflowId!] : [])];
  const reverted = result?.agents.find((a) => a.outcome === 'reverted' || a.outcome === 'revert-failed');
  if (reverted) ids.push(rollbackWorkflowId(workflowId, reverted.agentId));
  for (const id of ids) await replayAndSave(id);
}

const progressUntil = (injectionId: string, ready: (p: SwarmProgress) => boolean, what: string) => waitForProgress(injector.client, injectionId, ready, what, 60_000);

function failWhen(agentId: string): string {
  return `WHEN agent.agent_id == "${agentId}" {\n  SIMULATE_FAILURE { MESSAGE: "forced by the test" }\n}`;
}

describe('swarmInjection on real agents', () => {
  it('injects 20 agents, and each result carries the trace the agent wrote', async () => {
    const injectionId = `all20-${Date.now()}`;
    const result = await injector.runSwarm({
      injectionId,
      source: 'REDUCE_COSTS BY 15% {\n  BUDGET: $500\n  MAX_PARALLEL: 8\n}',
      targets: { group: agents.group },
    });
    expect(result.status).toBe('succeeded');
    expect(result.counts).toMatchObject({ total: 20, injected: 20, failed: 0 });
    for (const agent of agents.agents) {
      const agentResult = await injector.agentResult(injectionId, agent.agentId);
      expect(agentResult.outcome).toBe('injected');
      expect(agentResult.trace?.final).toMatchObject({ status: 'completed', programId: injectionId, final: true });
      expect(agentResult.trace?.lines.some((line) => String(line.instruction).startsWith('REDUCE_COSTS BY 15%'))).toBe(true);
      expect(agentResult.timings.map((t) => t.step)).toEqual(['snapshot', 'inject', 'reload', 'trace', 'verify']);
      expect(await programOf(agent)).toBe(injectionId);
    }
    expect(result.historyEventsPerRun.every((events) => events < 10_240)).toBe(true);
    await replays(injectionId);
  });

  it('with MAX_FAILURES 20%, rolls back only the agent that failed; the rest keep the new program', async () => {
    const ten = agents.agents.slice(0, 10);
    const previous = await baseline(injector, ten, 'budget20');
    const failing = ten[3];
    const injectionId = `budget20-${Date.now()}`;
    const result = await injector.runSwarm({
      injectionId,
      source: `OPTIMIZE_THROUGHPUT {\n  MAX_FAILURES: 20%\n  CANARY: 0\n}\n${failWhen(failing.agentId)}`,
      targets: { agentIds: agentIds(ten) },
    });
    expect(result.status).toBe('partially-succeeded');
    expect(result.counts).toMatchObject({ injected: 9, rolledBack: 1, failed: 1 });
    const failed = await injector.agentResult(injectionId, failing.agentId);
    expect(failed.outcome).toBe('rolled-back');
    expect(failed.error?.code).toBe('PROGRAM_FAILED');
    // The agent put the replaced program back itself (revertedTo), so the compare-and-swap rollback found nothing to
    // undo and left it alone: no second reload.
    expect(failed.trace?.final).toMatchObject({ status: 'error', revertedTo: previous });
    expect(failed.rollbackTrace).toBeNull();
    for (const agent of ten) expect(await programOf(agent)).toBe(agent === failing ? previous : injectionId);
    await replays(injectionId);
  });

  it('with MAX_FAILURES 0, rolls back every changed agent, which then runs the previous program', async () => {
    const ten = agents.agents.slice(10, 20);
    const previous = await baseline(injector, ten, 'budget0');
    const injectionId = `budget0-${Date.now()}`;
    const result = await injector.runSwarm({
      injectionId,
      source: `OPTIMIZE_THROUGHPUT {\n  MAX_FAILURES: 0\n  CANARY: 0\n}\n${failWhen(ten[3].agentId)}`,
      targets: { agentIds: agentIds(ten) },
    });
    expect(result.status).toBe('failure-budget-exceeded');
    expect(result.counts.injected).toBe(0);
    for (const agent of ten) expect(await programOf(agent)).toBe(previous);
    for (const entry of result.agents.filter((a) => a.outcome === 'reverted')) {
      const revert = await injector.client.workflow.getHandle<typeof agentRollbackWorkflow>(rollbackWorkflowId(injectionId, entry.agentId)).result();
      expect(revert.trace?.final).toMatchObject({ status: 'completed', programId: previous });
    }
    expect(result.agents.every((a) => ['reverted', 'rolled-back', 'skipped'].includes(a.outcome))).toBe(true);
    await replays(injectionId);
  });

  it('when the DEADLINE passes, stops, rolls back, and reports the deadline exceeded', async () => {
    const four = agents.agents.slice(0, 4);
    const previous = await baseline(injector, four, 'deadline');
    const injectionId = `deadline-${Date.now()}`;
    const result = await injector.runSwarm({
      injectionId,
      source: 'SIMULATE_WORK BY 30s {\n  DEADLINE: 10s\n  MAX_PARALLEL: 2\n  TRACE_TIMEOUT: 2m\n  CANARY: 0\n}',
      targets: { agentIds: agentIds(four) },
    });
    expect(result.status).toBe('deadline-exceeded');
    expect(result.deadlineExceeded).toBe(true);
    expect(result.counts.injected).toBe(0);
    for (const agent of four) expect(await programOf(agent)).toBe(previous);
    await replays(injectionId);
  });

  it('pauses, resumes, changes MAX_PARALLEL and aborts by message mid-rollout; the abort rolls back', async () => {
    const six = agents.agents.slice(4, 10);
    const previous = await baseline(injector, six, 'control');
    const injectionId = `control-${Date.now()}`;
    const handle = await injector.startSwarm({ injectionId, source: 'SIMULATE_WORK BY 1s {\n  MAX_PARALLEL: 1\n  CANARY: 0\n}', targets: { agentIds: agentIds(six) } });
    await progressUntil(injectionId, (p) => p.counts.injected >= 1, 'one agent injected');
    await handle.signal(pauseSignal);
    const paused = await progressUntil(injectionId, (p) => p.status === 'paused' && p.counts.running === 0, 'paused with nothing running');
    await new Promise((r) => setTimeout(r, 1_500));
    const stillPaused = await handle.query(progressQuery);
    expect(stillPaused.counts.injected).toBe(paused.counts.injected);
    expect(stillPaused.counts.running).toBe(0);

    const refused = await handle.executeUpdate(setMaxParallelUpdate, { args: [0] }).catch((err: unknown) => err);
    expect(refused).toBeInstanceOf(WorkflowUpdateFailedError);
    expect(String((refused as WorkflowUpdateFailedError).cause?.message)).toMatch(/maxParallel must be a whole number from 1 to 1000, got 0/);
    expect(await handle.executeUpdate(setMaxParallelUpdate, { args: [2] })).toBe(1);
    await handle.signal(resumeSignal);
    await progressUntil(injectionId, (p) => p.counts.injected >= paused.counts.injected + 1 && p.maxParallel === 2, 'one more agent injected at MAX_PARALLEL 2');
    await handle.signal(abortSignal, 'operator said stop');
    const result = await handle.result();
    expect(result.status).toBe('aborted');
    expect(result.counts.injected).toBe(0);
    for (const agent of six) expect(await programOf(agent)).toBe(previous);
    await replays(injectionId);
  });

  it('`temporal workflow cancel` stops the rollout and rolls back what it changed', async () => {
    const four = agents.agents.slice(10, 14);
    const previous = await baseline(injector, four, 'cancel');
    const injectionId = `cancel-${Date.now()}`;
    const handle = await injector.startSwarm({ injectionId, source: 'SIMULATE_WORK BY 2s {\n  MAX_PARALLEL: 2\n  CANARY: 0\n}', targets: { agentIds: agentIds(four) } });
    await progressUntil(injectionId, (p) => p.counts.injected >= 1, 'one agent injected');
    await promisify(execFile)(process.env.OPENCLAW_TEST_TEMPORAL_CLI!, ['workflow', 'cancel', '--workflow-id', injectionId, '--address', testTemporalAddress()]);
    await expect(handle.result()).rejects.toThrow(WorkflowFailedError);
    const description = await handle.describe();
    expect(description.status.name).toBe('CANCELLED');
    for (const agent of four) expect(await programOf(agent)).toBe(previous);
    await replays(injectionId);
  });

  it('reports an unknown agent id as a failed target, and a program that does not compile as a non-retryable failure', async () => {
    const injectionId = `unknown-${Date.now()}`;
    const result = await injector.runSwarm({
      injectionId,
      source: 'OPTIMIZE_THROUGHPUT {\n  MAX_FAILURES: 1\n  CANARY: 0\n}',
      targets: { agentIds: [agents.agents[0].agentId, 'no-such-agent'] },
    });
    expect(result.status).toBe('partially-succeeded');
    expect(result.agents.find((a) => a.agentId === 'no-such-agent')).toMatchObject({ outcome: 'not-found', childWorkflowId: null });

    const bad = await injector.startSwarm({ source: 'REDUCE_COST BY 15%', targets: { agentIds: [agents.agents[0].agentId] } });
    const failure = await bad.result().catch((err: unknown) => err);
    expect(failure).toBeInstanceOf(WorkflowFailedError);
    const cause = (failure as WorkflowFailedError).cause as { type?: string; details?: unknown[]; nonRetryable?: boolean };
    expect(cause.type).toBe('COMPILE_FAILED');
    expect(cause.nonRetryable).toBe(true);
    expect(JSON.stringify(cause.details)).toMatch(/REDUCE_COSTS/);
  });
});

describe('agent identity', () => {
  /** A container carrying an agent's labels (and its trusted keys), as any container on the engine could. */
  async function startClaimant(agentId: string, name: string): Promise<string> {
    const image = await ensureAgentImage();
    const { stdout } = await promisify(execFile)('docker', [
      'run', '-d', '--network', 'none', '--name', name,
      '--label', `${LABEL_ROLE}=${LABEL_ROLE_AGENT}`, '--label', `${LABEL_AGENT_ID}=${agentId}`, '--label', `${TEST_LABEL}=1`,
      '--env', `OPENCLAW_AGENT_ID=${agentId}`, '--env', `OPENCLAW_TRUSTED_KEYS=${formatTrustedKey(agents.signingKey.keyId, agents.signingKey.publicKey)}`,
      image,
    ]);
    const containerId = stdout.trim();
    await waitUntilReady(agents.adapter, [containerId]);
    return containerId;
  }

  it('injects an agent whose labels another container copies, and never touches the copy', async () => {
    const victim = agents.agents[19];
    // The impostor copies the victim's labels and id; the victim's name (openclaw-agent-<id>) is taken, so it cannot.
    const impostorId = await startClaimant(victim.agentId, `impostor-${victim.agentId}-${Date.now()}`);
    try {
      const injectionId = `impostor-${Date.now()}`;
      const result = await injector.runSwarm({ injectionId, source: 'OPTIMIZE_THROUGHPUT {\n  MAX_FAILURES: 0\n  CANARY: 0\n}', targets: { agentIds: [victim.agentId] } });
      expect([result.status, result.counts.injected, result.agents.find((a) => a.agentId === victim.agentId)?.outcome]).toEqual(['succeeded', 1, 'injected']);
      expect(await programOf(victim)).toBe(injectionId);
      expect((await injector.channel.current(impostorId))?.programId ?? null).toBeNull();
    } finally {
      await promisify(execFile)('docker', ['rm', '-f', impostorId]);
    }
  });

  it('does not take a labelled container under another name for the agent it claims to be', async () => {
    const agentId = `unnamed-${Date.now()}`;
    const claimantId = await startClaimant(agentId, `not-${agentId}`);
    try {
      const result = await injector.runSwarm({ injectionId: `claimant-${Date.now()}`, source: 'OPTIMIZE_THROUGHPUT {\n  MAX_FAILURES: 1\n  CANARY: 0\n}', targets: { agentIds: [agentId] } });
      expect([result.counts.injected, result.agents.find((a) => a.agentId === agentId)?.outcome]).toEqual([0, 'not-found']);
      expect((await injector.channel.current(claimantId))?.programId ?? null).toBeNull();
    } finally {
      await promisify(execFile)('docker', ['rm', '-f', claimantId]);
    }
  });
});
