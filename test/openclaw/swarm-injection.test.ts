// Swarm injections into real OpenClaw gateway containers (three: about 0.9 GB each) through the product's own workers
// and REST gateway on the run's dev server: what each gateway runs afterwards is read from the gateway itself
// (skills.status inside its container), never from the workflow's word for it.
import Docker from 'dockerode';
import { dockerodeFor } from '../../src/docker/dockerode-adapter';
import { OpenClawDriver } from '../../src/docker/drivers/openclaw-driver';
import type { InjectionView } from '../../src/gateway/injection-service';
import { DEFAULT_SKILL_NAME, SIMULATED_FAILURE_BIN } from '../../src/openclaw/skill-bundle';
import { createLogger } from '../../src/shared/logger';
import { formatSigningKey } from '../../src/signing/keys';
import { startAgents, testDockerConnection, TestAgents } from '../support/agents';
import { RunningInjector, startRunningInjector } from '../support/running-injector';
import { testConfig } from '../support/temporal';
import { eventually, startTestGateways, TestGateways, workspaceSkill } from './gateways';

const TOKEN = 'g'.repeat(40);
/** Gateways start slowly on a loaded host, and each skills.status call starts the OpenClaw CLI (3-20 s). */
const SETUP_TIMEOUT_MS = 600_000;
const TEST_TIMEOUT_MS = 900_000;
const INJECTION_TIMEOUT_MS = 600_000;
const logger = createLogger({ level: 'error', component: 'openclaw-swarm' });

let gateways: TestGateways;
let agents: TestAgents;
let injector: RunningInjector;

beforeAll(async () => {
  // The reference agents of the mixed swarm trust the key the workers seal with.
  agents = await startAgents(2, { name: 'ocmix' });
  gateways = await startTestGateways(3, 'swarm');
  const config = testConfig({ OPENCLAW_SIGNING_KEY: formatSigningKey(agents.signingKey), OPENCLAW_API_TOKENS: TOKEN, OPENCLAW_INSECURE_DEV: '0' });
  injector = await startRunningInjector({ config, token: TOKEN, logger });
}, SETUP_TIMEOUT_MS);

afterAll(async () => {
  await injector?.stop();
  await gateways?.remove();
  await agents?.remove();
});

const http = (method: string, path: string, body?: unknown) => injector.http(method, path, body);

async function inject(body: Record<string, unknown>): Promise<InjectionView> {
  const started = await http('POST', '/inject-swarm', body);
  expect(started.status).toBe(202);
  const injectionId = started.body.injectionId as string;
  return eventually(
    async () => {
      const { status, body: view } = await http('GET', `/injections/${injectionId}?limit=50`);
      expect(status).toBe(200);
      return view as unknown as InjectionView;
    },
    (view) => view.done,
    INJECTION_TIMEOUT_MS,
  );
}

type HistoryEntry = {
  injectionId: string;
  outcome: string;
  error: { code: string; message: string } | null;
  rollbackError: { code: string; message: string } | null;
  trace: { final: Record<string, unknown> | null; lines: Array<Record<string, unknown>> } | null;
  rollbackTrace: { final: Record<string, unknown> | null; lines: Array<Record<string, unknown>> } | null;
};

async function historyOf(agentId: string, injectionIds: string[]): Promise<HistoryEntry[]> {
  const page = await eventually(
    async () => (await http('GET', `/history/${agentId}?limit=20`)).body,
    (body) => injectionIds.every((id) => (body.history as HistoryEntry[]).some((e) => e.injectionId === id)),
    30_000,
  );
  return page.history as HistoryEntry[];
}

const skillOf = (containerId: string) => workspaceSkill(gateways.adapter, containerId, DEFAULT_SKILL_NAME);

describe('swarm injections into real OpenClaw gateways', () => {
  let first: InjectionView;

  it('a canary injection succeeds, and every gateway lists the skill eligible', async () => {
    first = await inject({ group: gateways.group, instruction: 'REDUCE_COSTS BY 15% {\n  BUDGET: $500\n  CANARY: 1\n  MAX_PARALLEL: 2\n  TRACE_TIMEOUT: 5m\n}' });
    expect(first.status).toBe('succeeded');
    expect(first.counts).toMatchObject({ total: 3, injected: 3, failed: 0 });
    for (const g of gateways.gateways) {
      const skill = await skillOf(g.containerId);
      expect(skill).toMatchObject({ eligible: true });
      expect(skill?.description).toContain(`"${first.injectionId}"`);
    }
  }, TEST_TIMEOUT_MS);

  it('an ineligible skill with MAX_FAILURES 0 rolls every gateway back, which skills.status confirms', async () => {
    const second = await inject({
      group: gateways.group,
      instruction: 'SIMULATE_FAILURE { MESSAGE: "needs a binary no gateway has" }\nOPTIMIZE_THROUGHPUT {\n  MAX_FAILURES: 0\n  CANARY: 0\n  MAX_PARALLEL: 3\n  TRACE_TIMEOUT: 5m\n}',
    });
    expect(second.status).toBe('failure-budget-exceeded');
    expect(second.counts?.injected).toBe(0);
    for (const g of gateways.gateways) {
      const skill = await skillOf(g.containerId);
      expect(skill).toMatchObject({ eligible: true });
      expect(skill?.description).toContain(`"${first.injectionId}"`);
      expect(skill?.description).not.toContain(`"${second.injectionId}"`);
    }

    // GET /history/:agentId shows both, with what the gateway reported as their traces.
    const histories = await Promise.all(gateways.gateways.map((g) => historyOf(g.agentId, [first.injectionId, second.injectionId])));
    for (const history of histories) {
      const ok = history.find((e) => e.injectionId === first.injectionId)!;
      expect(ok.outcome).toBe('injected');
      expect(ok.trace?.final).toMatchObject({ final: true, status: 'completed', runtime: 'openclaw', programId: first.injectionId });
      expect(ok.trace?.lines.some((l) => l.instruction === 'skills.status' && (l.gateway as { eligible?: boolean }).eligible === true)).toBe(true);
      const failed = history.find((e) => e.injectionId === second.injectionId)!;
      expect(['rolled-back', 'reverted']).toContain(failed.outcome);
    }
    const seenIneligible = histories.flat().filter((e) => e.injectionId === second.injectionId && e.error?.code === 'PROGRAM_FAILED');
    expect(seenIneligible.length).toBeGreaterThan(0);
    for (const entry of seenIneligible) {
      expect(entry.error?.message).toContain('SKILL_INELIGIBLE');
      expect(entry.error?.message).toContain(SIMULATED_FAILURE_BIN);
      expect(entry.trace?.final).toMatchObject({ status: 'error', error: { code: 'SKILL_INELIGIBLE' } });
      expect(entry.rollbackTrace?.final).toMatchObject({ status: 'completed', runtime: 'openclaw' });
    }
  }, TEST_TIMEOUT_MS);

  it('a mixed swarm (two reference agents, one gateway) succeeds in one injection', async () => {
    const gw = gateways.gateways[0];
    const mixed = await inject({
      agents: [...agents.agents.map((a) => a.agentId), gw.agentId],
      instruction: 'OPTIMIZE_THROUGHPUT BY 20% {\n  CANARY: 1\n  MAX_PARALLEL: 3\n  TRACE_TIMEOUT: 5m\n}',
    });
    expect(mixed.status).toBe('succeeded');
    expect(mixed.counts).toMatchObject({ total: 3, injected: 3, failed: 0 });
    for (const a of agents.agents) expect((await agents.channel.current(a.containerId))?.programId).toBe(mixed.injectionId);
    const skill = await skillOf(gw.containerId);
    expect(skill).toMatchObject({ eligible: true });
    expect(skill?.description).toContain(`"${mixed.injectionId}"`);
  }, TEST_TIMEOUT_MS);

  // Last: it leaves one gateway stopped.
  it('a gateway stopped mid-injection is accounted for as a reference agent is: rollback-failed, the others injected', async () => {
    const [stopped, ...healthy] = [gateways.gateways[2], gateways.gateways[0], gateways.gateways[1]];
    const driver = new OpenClawDriver(gateways.adapter);
    const docker: Docker = dockerodeFor(testDockerConnection());
    const started = await http('POST', '/inject-swarm', {
      group: gateways.group,
      instruction: 'REDUCE_COSTS BY 5% {\n  CANARY: 0\n  MAX_PARALLEL: 3\n  MAX_FAILURES: 1\n  TRACE_TIMEOUT: 5m\n}',
    });
    expect(started.status).toBe(202);
    const injectionId = started.body.injectionId as string;
    // Strike once the new revision is switched in: the gateway is being asked about it, not yet confirmed.
    const switched = await eventually(() => driver.current(stopped.containerId), (c) => c?.reloadId === injectionId, 300_000);
    expect(switched?.reloadId).toBe(injectionId);
    await docker.getContainer(stopped.containerId).stop({ t: 0 });
    const view = await eventually(
      async () => (await http('GET', `/injections/${injectionId}?limit=50`)).body as unknown as InjectionView,
      (v) => v.done,
      INJECTION_TIMEOUT_MS,
    );
    expect(view.status).toBe('partially-succeeded');
    expect(view.counts).toMatchObject({ total: 3, injected: 2, failed: 1, rollbackFailed: 1 });
    // The gateway's own row in the view agrees with the swarm-level counts: the one failed agent is the stopped gateway.
    const rows = view.agents.items;
    expect(rows.map((r) => r.agentId).sort()).toEqual(gateways.gateways.map((g) => g.agentId).sort());
    expect(rows.find((r) => r.agentId === stopped.agentId)?.outcome).toBe('rollback-failed');
    expect(rows.filter((r) => r.outcome === 'rollback-failed')).toHaveLength(view.counts?.rollbackFailed ?? -1);
    expect(rows.filter((r) => r.outcome === 'injected').map((r) => r.agentId).sort()).toEqual(healthy.map((g) => g.agentId).sort());
    const [entry] = (await historyOf(stopped.agentId, [injectionId])).filter((e) => e.injectionId === injectionId);
    // As for a reference agent killed mid-injection: cut off while it ran the new program, the rollback could not
    // run on a stopped container, and the record says so, never that it succeeded.
    expect(entry.outcome).toBe('rollback-failed');
    expect(entry.error).not.toBeNull();
    expect(entry.rollbackError?.code).toBe('CONTAINER_NOT_RUNNING');
    console.log(`stopped gateway: ${entry.outcome} (${entry.error?.code}: ${entry.error?.message}; rollback ${entry.rollbackError?.code})`);
    for (const g of healthy) expect((await skillOf(g.containerId))?.description).toContain(`"${injectionId}"`);
  }, TEST_TIMEOUT_MS);
});
