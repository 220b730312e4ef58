// Fault-test helpers: worker processes to kill, bounded polling, and the two checks every fault test ends with —
// what each agent itself runs and logs, and that the injection's record accounts for every agent.
import { ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import { negotiateProtocol } from '../../src/agent/protocol';
import type { AgentChannel, AgentRef, DockerAdapter } from '../../src/docker';
import { formatSigningKey, SigningKeyPair } from '../../src/signing/keys';
import type { AgentInjectionResult, AgentStatusEntry, SwarmInjectionResult, SwarmProgress } from '../../src/shared/injection-types';
import { childWorkflowId, rollbackReloadId, TERMINAL_OUTCOMES } from '../../src/shared/injection-types';
import { progressQuery } from '../../workflows';

const PROJECT_ROOT = path.resolve(__dirname, '..', '..');
export const WORKER_ENTRY = path.join(PROJECT_ROOT, 'dist', 'src', 'worker', 'main.js');
const LOG_PATH = '/app/logs/execution.log';
const MAX_LOG_READ_BYTES = 6 * 1024 * 1024;
const POLL_MS = 100;

export function assertWorkerBuilt(): void {
  if (!existsSync(WORKER_ENTRY)) throw new Error(`${WORKER_ENTRY} is missing: run \`npm run build\` first (npm test does)`);
}

/** Worker processes (the real entry point) started by one test file; `killAll` in afterAll. */
export class WorkerProcesses {
  private readonly started: ChildProcess[] = [];
  /** The last lines the workers wrote to stderr, for a failing test's message. */
  readonly stderrTail: string[] = [];

  constructor(private readonly env: { temporalAddress: string; taskQueue: string; signingKey: SigningKeyPair; dockerHost?: string }) {}

  start(): ChildProcess {
    const child = spawn(process.execPath, [WORKER_ENTRY], {
      env: {
        ...process.env,
        TEMPORAL_ADDRESS: this.env.temporalAddress,
        OPENCLAW_TASK_QUEUE: this.env.taskQueue,
        OPENCLAW_SIGNING_KEY: formatSigningKey(this.env.signingKey),
        OPENCLAW_LOG_LEVEL: 'error',
        ...(this.env.dockerHost ? { DOCKER_HOST: this.env.dockerHost } : {}),
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      this.stderrTail.push(chunk.toString('utf8'));
      if (this.stderrTail.length > 20) this.stderrTail.shift();
    });
    this.started.push(child);
    return child;
  }

  get current(): ChildProcess | undefined {
    return this.started[this.started.length - 1];
  }

  /** SIGKILLs the current worker and waits until it is gone. */
  async kill(): Promise<void> {
    const child = this.current;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  }

  get count(): number {
    return this.started.length;
  }

  async killAll(): Promise<void> {
    await Promise.all(
      this.started
        .filter((c) => c.exitCode === null && c.signalCode === null)
        .map((c) => {
          const exited = new Promise((resolve) => c.once('exit', resolve));
          c.kill('SIGKILL');
          return exited;
        }),
    );
  }
}

/** Polls `probe` until it returns a value; every wait in the fault tests is on a condition, bounded. */
export async function waitUntil<T>(probe: () => Promise<T | undefined | null | false>, what: string, timeoutMs = 120_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined && value !== null && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

export function waitForProgress(client: Client, injectionId: string, ready: (p: SwarmProgress) => boolean, what: string, timeoutMs = 120_000): Promise<SwarmProgress> {
  const handle = client.workflow.getHandle(injectionId);
  return waitUntil(async () => {
    const progress = await handle.query(progressQuery, { limit: 1000 });
    return ready(progress) ? progress : undefined;
  }, what, timeoutMs);
}

/** Activities pending in a workflow right now (e.g. 'rollbackAgent', on its 2nd attempt), read from the server. */
export async function pendingActivities(client: Client, workflowId: string): Promise<{ type: string; attempt: number }[]> {
  const description = await client.workflow.getHandle(workflowId).describe();
  return (description.raw.pendingActivities ?? []).map((a) => ({ type: a.activityType?.name ?? '', attempt: a.attempt ?? 0 }));
}

/** The agent's own trace lines (docs/agent-protocol.md), parsed; [] when it has no log yet. */
export async function agentLog(adapter: DockerAdapter, containerId: string): Promise<Record<string, unknown>[]> {
  const log = await adapter.readFile(containerId, LOG_PATH, MAX_LOG_READ_BYTES);
  if (!log.found) return [];
  return log.content
    .toString('utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

/** Final lines per reload id in one agent's log: the agent acted on a reload id once exactly when its count is 1. */
export async function finalLineCounts(adapter: DockerAdapter, containerId: string): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  for (const line of await agentLog(adapter, containerId)) {
    if (line.final !== true) continue;
    const id = String(line.injectionId);
    counts.set(id, (counts.get(id) ?? 0) + 1);
  }
  return counts;
}

/** True once the agent has started running this reload (its first step line is in its log). */
export async function agentStarted(adapter: DockerAdapter, containerId: string, reloadId: string): Promise<boolean> {
  return (await agentLog(adapter, containerId)).some((l) => l.injectionId === reloadId && l.status === 'executing');
}

/**
 * The injection's record accounts for every agent: one terminal row per agent, counts that add up, and for every
 * agent that got a child workflow, a child result whose outcome is the row's.
 */
export async function expectAccountedFor(client: Client, result: SwarmInjectionResult, agents: AgentRef[]): Promise<Map<string, AgentInjectionResult>> {
  const rows = new Map<string, AgentStatusEntry>(result.agents.map((row) => [row.agentId, row]));
  expect(result.agents).toHaveLength(agents.length);
  expect([...rows.keys()].sort()).toEqual(agents.map((a) => a.agentId).sort());
  expect(result.counts.total).toBe(agents.length);
  expect(result.counts.pending + result.counts.running).toBe(0);
  const c = result.counts;
  expect(c.injected + c.failedUnchanged + c.rolledBack + c.rollbackFailed + c.notFound + c.superseded + c.reverted + c.revertFailed + c.revertSuperseded + c.skipped).toBe(agents.length);
  const children = new Map<string, AgentInjectionResult>();
  for (const row of result.agents) {
    expect(TERMINAL_OUTCOMES).toContain(row.outcome);
    if (row.childWorkflowId === null) continue;
    expect(row.childWorkflowId).toBe(childWorkflowId(result.injectionId, row.agentId));
    const child = await client.workflow.getHandle(row.childWorkflowId).result() as AgentInjectionResult;
    children.set(row.agentId, child);
    // A swarm-wide revert rewrites an injected child's row; otherwise the row is the child's own outcome.
    const expectedChild = row.outcome === 'reverted' || row.outcome === 'revert-failed' || row.outcome === 'revert-superseded' ? 'injected' : row.outcome;
    expect({ agentId: row.agentId, outcome: child.outcome }).toEqual({ agentId: row.agentId, outcome: expectedChild });
  }
  return children;
}

/**
 * What every agent runs, read from its CURRENT file, and that it acted at most once per reload id of this injection.
 * `expected` maps agent id → the program id it must run now.
 */
export async function expectAgentsRun(channel: AgentChannel, adapter: DockerAdapter, injectionId: string, agents: AgentRef[], expected: (agent: AgentRef) => string | null): Promise<void> {
  const actual: Record<string, unknown> = {};
  const wanted: Record<string, unknown> = {};
  for (const agent of agents) {
    const current = await channel.current(agent.containerId);
    const log = await agentLog(adapter, agent.containerId);
    const finals = await finalLineCounts(adapter, agent.containerId);
    actual[agent.agentId] = { program: current?.programId ?? null, forwardFinals: finals.get(injectionId) ?? 0, rollbackFinals: finals.get(rollbackReloadId(injectionId)) ?? 0 };
    const program = expected(agent);
    // An agent whose run failed put the replaced program back itself (revertedTo): the compare-and-swap rollback
    // then finds nothing to undo. A v1 injector sees that and reloads nothing; a v2 agent is sent its restore and
    // answers it with one final line that changes nothing (docs/agent-protocol.md, "Restore", case 2).
    const revertedItself = log.some((line) => line.injectionId === injectionId && line.final === true && line.status === 'error' && 'revertedTo' in line);
    const v2 = negotiateProtocol((await adapter.containerState(agent.containerId)).protocol) === 2;
    wanted[agent.agentId] = {
      program,
      forwardFinals: 1,
      rollbackFinals: program === injectionId ? 0 : revertedItself ? (v2 ? 1 : 0) : 1,
    };
  }
  expect(actual).toEqual(wanted);
}
