// Faults of a real cluster in the middle of a rollout: the history service SIGKILLed, PostgreSQL stopped at once (a
// crash), the frontend SIGKILLed; each restarted by `npm run cluster -- up` (it starts what is missing), as an operator
// would. Every time the rollout finishes with every agent accounted for: listed once, injected on its own host, one
// child for it in its history, and the program its container's CURRENT names is the one its row says it got.
import { findPostgresBinaries, stopPostgres } from '../../scripts/cluster/postgres';
import { postgresInstance, temporalProcesses } from '../../scripts/cluster/cluster';
import { runningPid, waitUntil } from '../../scripts/cluster/processes';
import type { AgentHistoryEntry, InjectionView } from '../../src/gateway/injection-service';
import { eventually } from '../gateway/support';
import { startClusterAgents } from './support-agents';
import { clusterCommand, gatewayRequest, testCluster, untilDone } from './support';

const AGENTS_PER_ENGINE = 3;
const TOTAL = 2 * AGENTS_PER_ENGINE;
/** Slow enough (MAX_PARALLEL 2, a second of work per agent) that the fault lands while agents are still waiting. */
const INSTRUCTION = 'SIMULATE_WORK BY 1s {\n  MAX_PARALLEL: 2\n  CANARY: 0\n}';
const MIDWAY_TIMEOUT_MS = 60_000;
const KILLED_TIMEOUT_MS = 10_000;
const POLL_MS = 100;
/** A fault test: the rollout, the fault, `up` again, and the rollout's end. */
const FAULT_TEST_TIMEOUT_MS = 420_000;

const cluster = testCluster();
let agents: Awaited<ReturnType<typeof startClusterAgents>>;

beforeAll(async () => {
  agents = await startClusterAgents('cluster-faults', AGENTS_PER_ENGINE);
}, 240_000);
afterAll(async () => agents?.remove());

/** Starts a rollout over every agent and returns once the first agent is injected and others are not yet. */
async function rolloutMidway(): Promise<string> {
  const start = await gatewayRequest('POST', '/inject-swarm', { group: agents.group, instruction: INSTRUCTION });
  expect(start.status).toBe(202);
  const injectionId = start.body.injectionId as string;
  const deadline = Date.now() + MIDWAY_TIMEOUT_MS;
  for (;;) {
    const { body } = await gatewayRequest('GET', `/injections/${injectionId}?limit=500`);
    const view = body as unknown as InjectionView;
    if ((view.counts?.injected ?? 0) >= 1) {
      expect(view.done).toBe(false);
      expect(view.counts?.injected).toBeLessThan(TOTAL);
      return injectionId;
    }
    if (Date.now() > deadline) throw new Error(`no agent of ${injectionId} was injected within ${MIDWAY_TIMEOUT_MS} ms`);
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

async function sigkill(service: 'frontend' | 'history'): Promise<void> {
  const { proc } = temporalProcesses(cluster.paths).find((p) => p.service === service) ?? { proc: undefined };
  if (!proc) throw new Error(`no ${service} process`);
  const pid = runningPid(proc);
  expect(pid).toEqual(expect.any(Number));
  process.kill(pid as number, 'SIGKILL');
  await waitUntil(`${service} is gone`, async () => runningPid(proc) === undefined, { timeoutMs: KILLED_TIMEOUT_MS });
}

/**
 * Every agent accounted for: the injection lists each agent exactly once, injected on its own host; the agent's
 * history holds one child of this injection (touched once), injected; and the container's CURRENT names this
 * injection and the program that child recorded.
 */
async function expectEveryAgentAccountedFor(injectionId: string): Promise<void> {
  const view = await untilDone(injectionId);
  expect(view.status).toBe('succeeded');
  expect(view.counts).toMatchObject({ total: TOTAL, injected: TOTAL, failed: 0 });
  expect(view.agents.items).toHaveLength(TOTAL);
  expect(new Set(view.agents.items.map((a) => a.agentId)).size).toBe(TOTAL);
  for (const engine of agents.engines) {
    for (const agent of engine.agents) {
      expect(view.agents.items.find((a) => a.agentId === agent.agentId)).toMatchObject({ outcome: 'injected', host: engine.hostName });
      // The history is read from visibility, which trails the workflows a little: wait for this child to show closed.
      const rows = await eventually(async () => {
        const history = await gatewayRequest('GET', `/history/${agent.agentId}`);
        const mine = history.status === 200 ? (history.body.history as AgentHistoryEntry[]).filter((h) => h.injectionId === injectionId) : [];
        return mine.length > 0 && mine.every((h) => h.workflowStatus !== 'RUNNING') ? mine : undefined;
      }, `the history of ${agent.agentId} to show ${injectionId}`);
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({ outcome: 'injected', programId: expect.any(String) });
      expect(await engine.channel.current(agent.containerId)).toMatchObject({ reloadId: injectionId, programId: rows[0].programId });
    }
  }
}

describe('faults of the cluster mid-rollout', () => {
  it(
    'the history service SIGKILLed and restarted: the rollout finishes, every agent accounted for',
    async () => {
      const injectionId = await rolloutMidway();
      await sigkill('history');
      await clusterCommand(['up']);
      await expectEveryAgentAccountedFor(injectionId);
    },
    FAULT_TEST_TIMEOUT_MS,
  );

  it(
    'PostgreSQL stopped at once (immediate mode, as a crash) and restarted: the rollout finishes, every agent accounted for',
    async () => {
      const injectionId = await rolloutMidway();
      const pg = postgresInstance(cluster.paths, await findPostgresBinaries(() => undefined), cluster.settings);
      expect(await stopPostgres(pg, 'immediate')).toBe(true);
      await clusterCommand(['up']);
      await expectEveryAgentAccountedFor(injectionId);
    },
    FAULT_TEST_TIMEOUT_MS,
  );

  it(
    'the frontend SIGKILLed and restarted: the rollout finishes, every agent accounted for',
    async () => {
      const injectionId = await rolloutMidway();
      await sigkill('frontend');
      await clusterCommand(['up']);
      await expectEveryAgentAccountedFor(injectionId);
    },
    FAULT_TEST_TIMEOUT_MS,
  );
});
