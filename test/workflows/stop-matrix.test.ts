// Every way an operator stops an injection, in every phase, on real agent containers: abort, DEADLINE and
// `temporal workflow cancel`, during the canary, during the main window and while the rollback already runs (the
// paused phase is in safety.test.ts). After each, every agent's CURRENT, read from the container, must be what its
// row in the injection's record says, and no agent acted twice on one reload.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { WorkflowFailedError, WorkflowHandle } from '@temporalio/client';
import type { AgentRef } from '../../src/docker';
import { rollbackReloadId, SwarmProgress, SwarmStatus } from '../../src/shared/injection-types';
import { abortSignal, progressQuery, swarmInjectionWorkflow } from '../../workflows';
import { startAgents, TestAgents } from '../support/agents';
import { finalLineCounts, waitForProgress } from '../support/faults';
import { startTestInjector, TestInjector } from '../support/injector';
import { agentIds, baseline, endsWithin, programOf } from '../support/swarm';
import { testTemporalAddress } from '../support/temporal';

/** A stop that takes longer than this is a hang. */
const STOP_BOUND_MS = 90_000;
const PER_SCENARIO = 4;

type Stop = 'abort' | 'deadline' | 'cancel';

let agents: TestAgents;
let injector: TestInjector;

beforeAll(async () => {
  agents = await startAgents(PER_SCENARIO * 3, { name: 'stops' });
  injector = await startTestInjector({ signingKey: agents.signingKey });
}, 180_000);

afterAll(async () => {
  await injector?.stop();
  await agents?.remove();
});

const slice = (n: number) => agents.agents.slice(n * PER_SCENARIO, (n + 1) * PER_SCENARIO);

async function progressOf(injectionId: string): Promise<SwarmProgress> {
  return injector.client.workflow.getHandle(injectionId).query(progressQuery, { limit: 500 });
}

const progressUntil = (injectionId: string, ready: (p: SwarmProgress) => boolean, what: string) => waitForProgress(injector.client, injectionId, ready, what, 60_000);

async function stop(kind: Exclude<Stop, 'deadline'>, injectionId: string, handle: WorkflowHandle<typeof swarmInjectionWorkflow>): Promise<void> {
  if (kind === 'abort') await handle.signal(abortSignal, `stop-matrix ${kind}`, { by: 'jest' });
  else await promisify(execFile)(process.env.OPENCLAW_TEST_TEMPORAL_CLI!, ['workflow', 'cancel', '--workflow-id', injectionId, '--address', testTemporalAddress()]);
}

/** Waits for the end (within the bound); answers the final status (a cancelled workflow has no result). */
async function ended(handle: WorkflowHandle<typeof swarmInjectionWorkflow>): Promise<SwarmStatus | 'cancelled'> {
  const end = handle.result().then(
    (result) => result.status,
    async (err: unknown) => {
      if (err instanceof WorkflowFailedError && (await handle.describe()).status.name === 'CANCELLED') return 'cancelled' as const;
      throw err;
    },
  );
  return endsWithin(end, STOP_BOUND_MS, 'the injection');
}

/**
 * The one invariant: each agent runs what its row says. Injected rows run this injection's program; every other row
 * of a stopped injection (reverted, rolled back, failed before a change, skipped) runs what it ran before. Nothing is
 * left pending or running, and no agent acted twice on one reload.
 */
async function expectRecordsExplainAgents(injectionId: string, refs: AgentRef[], previous: string): Promise<SwarmProgress> {
  const progress = await progressOf(injectionId);
  expect(progress.agents.total).toBe(refs.length);
  expect(progress.counts.waiting + progress.counts.pending + progress.counts.running + progress.counts.reverting).toBe(0);
  const explained: Record<string, unknown> = {};
  const actual: Record<string, unknown> = {};
  for (const agent of refs) {
    const row = progress.agents.items.find((r) => r.agentId === agent.agentId);
    const finals = await finalLineCounts(agents.adapter, agent.containerId);
    const program = await programOf(injector.channel, agent);
    actual[agent.agentId] = { outcome: row?.outcome, program, forwardFinalsAtMostOne: (finals.get(injectionId) ?? 0) <= 1, rollbackFinalsAtMostOne: (finals.get(rollbackReloadId(injectionId)) ?? 0) <= 1 };
    const expectedProgram = row?.outcome === 'injected' ? injectionId : ['reverted', 'rolled-back', 'failed', 'skipped'].includes(row?.outcome ?? '') ? previous : `an outcome a stop should not give: ${row?.outcome}`;
    explained[agent.agentId] = { outcome: row?.outcome, program: expectedProgram, forwardFinalsAtMostOne: true, rollbackFinalsAtMostOne: true };
  }
  expect(actual).toEqual(explained);
  return progress;
}

const STOPS: Stop[] = ['abort', 'deadline', 'cancel'];
const FINAL_STATUS: Record<Stop, string> = { abort: 'aborted', deadline: 'deadline-exceeded', cancel: 'cancelled' };

describe('a stop during the canary', () => {
  it.each(STOPS)('%s: the canary agent is put back, nobody else is touched', async (kind) => {
    const refs = slice(0);
    const previous = await baseline(injector, refs, `canary-${kind}`, { work: '1s' });
    const injectionId = `stop-canary-${kind}-${Date.now()}`;
    // The canary agent's run takes 8 s; a 4 s DEADLINE passes while it runs.
    const deadline = kind === 'deadline' ? '  DEADLINE: 4s\n' : '';
    const handle = await injector.startSwarm({ injectionId, source: `SIMULATE_WORK BY 8s {\n  MAX_PARALLEL: 2\n  CANARY: 1\n${deadline}}`, targets: { agentIds: agentIds(refs) } });
    await progressUntil(injectionId, (p) => p.status === 'canary' && p.counts.running >= 1, 'the canary running');
    if (kind !== 'deadline') await stop(kind, injectionId, handle);
    expect(await ended(handle)).toBe(FINAL_STATUS[kind]);
    const progress = await expectRecordsExplainAgents(injectionId, refs, previous);
    expect(progress.counts.injected).toBe(0);
    expect(progress.counts.skipped).toBeGreaterThanOrEqual(refs.length - 1);
  });
});

describe('a stop during the main window', () => {
  it.each(STOPS)('%s: what was injected is reverted, what was running is rolled back, the rest never starts', async (kind) => {
    const refs = slice(1);
    const previous = await baseline(injector, refs, `window-${kind}`, { work: '1s' });
    const injectionId = `stop-window-${kind}-${Date.now()}`;
    // One agent at a time, 2 s each: a 5 s DEADLINE passes after about two agents.
    const deadline = kind === 'deadline' ? '  DEADLINE: 5s\n' : '';
    const handle = await injector.startSwarm({ injectionId, source: `SIMULATE_WORK BY 2s {\n  MAX_PARALLEL: 1\n  CANARY: 0\n${deadline}}`, targets: { agentIds: agentIds(refs) } });
    await progressUntil(injectionId, (p) => p.status === 'rolling-out' && p.counts.injected >= 1, 'one agent injected in the window');
    if (kind !== 'deadline') await stop(kind, injectionId, handle);
    expect(await ended(handle)).toBe(FINAL_STATUS[kind]);
    const progress = await expectRecordsExplainAgents(injectionId, refs, previous);
    expect(progress.counts.injected).toBe(0);
    expect(progress.counts.reverted).toBeGreaterThanOrEqual(1);
  });
});

describe('a second stop while the rollback runs', () => {
  it.each(STOPS)('%s after an abort: the rollback finishes and every agent is back', async (kind) => {
    const refs = slice(2);
    // Restoring the baseline takes 6 s per agent, so the rollback is still running when the second stop comes.
    const previous = await baseline(injector, refs, `rollback-${kind}`, { work: '6s' });
    const injectionId = `stop-rollback-${kind}-${Date.now()}`;
    const deadline = kind === 'deadline' ? '  DEADLINE: 10s\n' : '';
    const handle = await injector.startSwarm({ injectionId, source: `SIMULATE_WORK BY 1s {\n  MAX_PARALLEL: 2\n  CANARY: 0\n${deadline}}`, targets: { agentIds: agentIds(refs) } });
    await progressUntil(injectionId, (p) => p.counts.injected >= 2, 'two agents injected');
    await handle.signal(abortSignal, 'first stop', { by: 'jest' });
    await progressUntil(injectionId, (p) => p.status === 'rolling-back' && p.counts.reverting >= 1, 'the rollback running');
    if (kind !== 'deadline') await stop(kind, injectionId, handle);
    // The first stop decides the status; the second neither restarts nor abandons the rollback.
    expect(await ended(handle)).toBe(kind === 'cancel' ? 'cancelled' : 'aborted');
    const progress = await expectRecordsExplainAgents(injectionId, refs, previous);
    expect(progress.counts.injected).toBe(0);
    expect(progress.counts.reverted).toBeGreaterThanOrEqual(2);
  });
});
