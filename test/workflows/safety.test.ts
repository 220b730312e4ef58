// The safety promise under operator actions and overlaps (issue 12), on the real dev server and real agent containers:
// every stop path finishes while paused, two injections never change one agent at once, a rollback restores only what
// its own injection put there, and a missing snapshot never clears an agent. What each agent runs is read from the
// agent itself (CURRENT), never taken from the workflow's word for it.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { SNAPSHOT_PROGRAM_PATH } from '../../activities/docker-activities';
import { KEPT_PROGRAM_FILE, LABEL_PROTOCOL, STATE_DIR } from '../../src/agent/protocol';
import type { AgentRef } from '../../src/docker';
import type { SwarmProgress } from '../../src/shared/injection-types';
import { abortSignal, pauseSignal, progressQuery } from '../../workflows';
import { startAgents, TestAgents } from '../support/agents';
import { waitForProgress } from '../support/faults';
import { startTestInjector, TestInjector } from '../support/injector';
import { agentIds, baseline, endsWithin, programOf as programOfAgent } from '../support/swarm';
import { testTemporalAddress } from '../support/temporal';

/** A stop path that takes longer than this while paused is the old hang (it never finished). */
const STOP_BOUND_MS = 60_000;

let agents: TestAgents;
let injector: TestInjector;

beforeAll(async () => {
  agents = await startAgents(12, { name: 'safety' });
  injector = await startTestInjector({ signingKey: agents.signingKey });
}, 180_000);

afterAll(async () => {
  await injector?.stop();
  await agents?.remove();
});

const programOf = (agent: AgentRef) => programOfAgent(injector.channel, agent);
const endsWithinBound = <T>(promise: Promise<T>, what: string) => endsWithin(promise, STOP_BOUND_MS, what);
const progressUntil = (injectionId: string, ready: (p: SwarmProgress) => boolean, what: string) => waitForProgress(injector.client, injectionId, ready, what, 60_000);

/** Starts a slow rollout on `refs`, waits until one agent is injected, pauses it and waits until nothing runs. */
async function pausedMidRollout(refs: AgentRef[], tag: string, extra = '') {
  const injectionId = `${tag}-${Date.now()}`;
  const handle = await injector.startSwarm({ injectionId, source: `SIMULATE_WORK BY 2s {\n  MAX_PARALLEL: 1\n  CANARY: 0\n${extra}}`, targets: { agentIds: agentIds(refs) } });
  await progressUntil(injectionId, (p) => p.counts.injected >= 1, 'one agent injected');
  await handle.signal(pauseSignal, { by: 'jest' });
  await progressUntil(injectionId, (p) => p.status === 'paused' && p.counts.running === 0, 'paused with nothing running');
  return { injectionId, handle };
}

describe('every stop path finishes while paused', () => {
  it('an abort while paused rolls back every injected agent and ends', async () => {
    const three = agents.agents.slice(0, 3);
    const previous = await baseline(injector, three, 'abort-paused');
    const { handle } = await pausedMidRollout(three, 'abort-paused');
    await handle.signal(abortSignal, 'operator said stop', { by: 'jest' });
    const result = await endsWithinBound(handle.result(), 'the abort of a paused injection');
    expect(result.status).toBe('aborted');
    expect(result.counts.injected).toBe(0);
    expect(result.counts.reverted).toBeGreaterThanOrEqual(1);
    for (const agent of three) expect(await programOf(agent)).toBe(previous);
  });

  it('a DEADLINE that passes while paused rolls back and ends', async () => {
    const three = agents.agents.slice(3, 6);
    const previous = await baseline(injector, three, 'deadline-paused');
    const { handle } = await pausedMidRollout(three, 'deadline-paused', '  DEADLINE: 8s\n');
    const result = await endsWithinBound(handle.result(), 'a paused injection past its deadline');
    expect(result.status).toBe('deadline-exceeded');
    expect(result.counts.injected).toBe(0);
    for (const agent of three) expect(await programOf(agent)).toBe(previous);
  });

  it('`temporal workflow cancel` while paused rolls back and ends cancelled', async () => {
    const three = agents.agents.slice(6, 9);
    const previous = await baseline(injector, three, 'cancel-paused');
    const { injectionId, handle } = await pausedMidRollout(three, 'cancel-paused');
    await promisify(execFile)(process.env.OPENCLAW_TEST_TEMPORAL_CLI!, ['workflow', 'cancel', '--workflow-id', injectionId, '--address', testTemporalAddress()]);
    await expect(endsWithinBound(handle.result(), 'the cancel of a paused injection')).rejects.toThrow(WorkflowFailedError);
    expect((await handle.describe()).status.name).toBe('CANCELLED');
    for (const agent of three) expect(await programOf(agent)).toBe(previous);
    // The rows are still readable on the closed injection.
    const rows = await handle.query(progressQuery, { limit: 10 });
    expect(rows.agents.items.every((row) => ['reverted', 'rolled-back', 'skipped'].includes(row.outcome))).toBe(true);
  });
});

describe('two injections on the same agents', () => {
  it('the second waits for the first, says who holds the agents, and every agent ends on what the records say', async () => {
    const three = agents.agents.slice(9, 12);
    const previous = await baseline(injector, three, 'overlap');
    const first = `overlap-c-${Date.now()}`;
    const second = `overlap-d-${Date.now()}`;
    const c = await injector.startSwarm({ injectionId: first, source: 'SIMULATE_WORK BY 2s {\n  MAX_PARALLEL: 1\n  CANARY: 0\n}', targets: { agentIds: agentIds(three) } });
    await progressUntil(first, (p) => p.counts.injected >= 1, 'the first injection injected one agent');
    const d = await injector.startSwarm({ injectionId: second, source: 'OPTIMIZE_THROUGHPUT {\n  MAX_PARALLEL: 3\n  CANARY: 0\n}', targets: { agentIds: agentIds(three) } });
    const waiting = await progressUntil(second, (p) => p.status === 'waiting-for-agents', 'the second injection waiting');
    expect(waiting.waitingFor).toEqual(expect.arrayContaining(three.map((a) => ({ agentId: a.agentId, holder: first }))));
    expect(waiting.counts.running + waiting.counts.injected).toBe(0);

    // A third, asked to refuse rather than wait, fails at once naming the holder, and changes nothing.
    const refused = await injector.startSwarm({ injectionId: `overlap-e-${Date.now()}`, source: 'OPTIMIZE_THROUGHPUT', targets: { agentIds: agentIds(three) }, onBusy: 'refuse' });
    const refusal = await refused.result().catch((err: unknown) => err);
    expect(refusal).toBeInstanceOf(WorkflowFailedError);
    const cause = (refusal as WorkflowFailedError).cause as ApplicationFailure;
    expect(cause.type).toBe('AGENT_BUSY');
    expect(cause.message).toContain(first);

    // The first is aborted midway: it reverts what it changed, then the second takes the agents.
    await c.signal(abortSignal, 'stop the slow one', { by: 'jest' });
    const cResult = await c.result();
    expect(cResult.status).toBe('aborted');
    const dResult = await endsWithinBound(d.result(), 'the waiting injection');
    expect(dResult.status).toBe('succeeded');
    expect(dResult.counts.injected).toBe(3);
    for (const agent of three) expect(await programOf(agent)).toBe(second);
    expect(previous).not.toBe(second);
  });
});

describe('a rollback restores only what it can prove', () => {
  // v1: the injector's snapshot slot; v2: the agent's own record of what the install replaced.
  it.each([
    { protocol: '1', removedFile: SNAPSHOT_PROGRAM_PATH },
    { protocol: '2', removedFile: `${STATE_DIR}/${KEPT_PROGRAM_FILE}` },
  ])('protocol v$protocol: a snapshot missing at rollback leaves the agent as it is (NO_SNAPSHOT), never clears its program', async ({ protocol, removedFile }) => {
    const two = protocol === '1' ? await agents.add(2, `v1-${Date.now() % 100_000}`, undefined, { [LABEL_PROTOCOL]: '1' }) : agents.agents.slice(0, 2);
    await baseline(injector, two, `nosnap-v${protocol}`);
    const injectionId = `nosnap-v${protocol}-${Date.now()}`;
    const [kept, failing] = two;
    const handle = await injector.startSwarm({
      injectionId,
      source: `OPTIMIZE_THROUGHPUT {\n  MAX_PARALLEL: 1\n  MAX_FAILURES: 0\n  CANARY: 0\n}\nWHEN agent.agent_id == "${failing.agentId}" {\n  SIMULATE_WORK BY 3s\n  SIMULATE_FAILURE { MESSAGE: "forced" }\n}`,
      targets: { agentIds: [kept.agentId, failing.agentId] },
    });
    await progressUntil(injectionId, (p) => p.agents.items.some((a) => a.agentId === kept.agentId && a.outcome === 'injected'), 'the kept agent injected');
    // Someone removes the snapshot the rollback would need.
    const removed = await injector.docker.exec(kept.containerId, ['node', '-e', 'require("fs").unlinkSync(process.argv[1])', removedFile], { timeoutMs: 10_000 });
    expect(removed.exitCode).toBe(0);
    const result = await handle.result();
    expect(result.status).toBe('failure-budget-exceeded');
    const row = result.agents.find((a) => a.agentId === kept.agentId);
    expect(row).toMatchObject({ outcome: 'revert-failed', error: 'NO_SNAPSHOT' });
    // The agent still runs what the record says it runs: this injection's program, not nothing.
    expect(await programOf(kept)).toBe(injectionId);
  });
});
