// The gateway over real HTTP against real workers, the run's dev server and 10 real agent containers; the CLI against the same.
import { main } from '../../src/cli/main';
import type { CliIo } from '../../src/cli/io';
import type { InjectionView } from '../../src/gateway/injection-service';
import { createLogger } from '../../src/shared/logger';
import { formatSigningKey } from '../../src/signing/keys';
import { reloadAndTrace, startAgents, TestAgents } from '../support/agents';
import { childWorkflowId } from '../../src/shared/injection-types';
import { RunningInjector, startRunningInjector } from '../support/running-injector';
import { testClient, testConfig } from '../support/temporal';
import { eventually, TOKEN } from './support';

const logger = createLogger({ level: 'error', component: 'e2e' });
let agents: TestAgents;
let injector: RunningInjector;

beforeAll(async () => {
  agents = await startAgents(10, { name: 'gateway' });
  const config = testConfig({ OPENCLAW_SIGNING_KEY: formatSigningKey(agents.signingKey), OPENCLAW_API_TOKENS: TOKEN, OPENCLAW_INSECURE_DEV: '0' });
  // The gateway is given no usable Docker engine (it needs none: the workers resolve targets), and the workers' signing
  // key all the same (it must not use it: its dry runs are unsigned and refused below).
  injector = await startRunningInjector({ config, gatewayConfig: { ...config, dockerHost: 'unix:///nonexistent/docker.sock' }, token: TOKEN, logger });
}, 180_000);

afterAll(async () => {
  await injector?.stop();
  await agents?.remove();
});

const http = (method: string, path: string, body?: unknown) => injector.http(method, path, body);

async function untilDone(injectionId: string, timeoutMs = 90_000): Promise<InjectionView> {
  return eventually(
    async () => {
      const { status, body } = await http('GET', `/injections/${injectionId}?limit=500`);
      expect(status).toBe(200);
      const view = body as unknown as InjectionView;
      return view.done ? view : undefined;
    },
    `injection ${injectionId} to end`,
    timeoutMs,
  );
}

function capturingIo(): { io: CliIo; out: { stdout: string; stderr: string } } {
  const out = { stdout: '', stderr: '' };
  const io: CliIo = {
    stdout: { write: (t) => void (out.stdout += t) },
    stderr: { write: (t) => void (out.stderr += t) },
    readFile: async (p) => {
      if (p === 'ok.oc') return 'REDUCE_COSTS BY 10% {\n  MAX_PARALLEL: 3\n  CANARY: 1\n}';
      if (p === 'fails.oc') return `WHEN agent.agent_id == "${agents.agents[0].agentId}" {\n  SIMULATE_FAILURE { MESSAGE: "forced by the test" }\n}\nREDUCE_COSTS BY 1% {\n  CANARY: 0\n}`;
      throw new Error(`ENOENT ${p}`);
    },
    readStdin: async () => '',
    trustedKeys: () => new Map([[agents.signingKey.keyId, agents.signingKey.publicKey]]),
    env: { OPENCLAW_GATEWAY_URL: injector.gateway.url, OPENCLAW_API_TOKEN: TOKEN },
    sleep: (ms) => new Promise((r) => setTimeout(r, Math.min(ms, 200))),
  };
  return { io, out };
}

describe('the gateway end to end', () => {
  it('POST /inject-swarm to 10 agents, watched to the end through GET /injections/:id, then shown in each agent history', async () => {
    const start = await http('POST', '/inject-swarm', {
      group: agents.group,
      instruction: 'REDUCE_COSTS BY 15% {\n  BUDGET: $500\n  MAX_PARALLEL: 5\n}',
      context: { note: 'e2e' },
    });
    expect(start.status).toBe(202);
    const injectionId = start.body.injectionId as string;

    const view = await untilDone(injectionId);
    expect(view.status).toBe('succeeded');
    expect(view.counts).toMatchObject({ total: 10, injected: 10, failed: 0 });
    expect(view.agents.items.map((a) => a.agentId).sort()).toEqual(agents.agents.map((a) => a.agentId).sort());

    const agentId = agents.agents[3].agentId;
    const history = await eventually(async () => {
      const { body } = await http('GET', `/history/${agentId}?limit=5`);
      const entries = body.history as Array<Record<string, unknown>>;
      return entries.some((e) => e.injectionId === injectionId) ? body : undefined;
    }, 'the injection in the agent history');
    const entry = (history.history as Array<Record<string, unknown>>).find((e) => e.injectionId === injectionId) as Record<string, unknown>;
    expect(entry).toMatchObject({ outcome: 'injected', workflowStatus: 'COMPLETED', programId: injectionId });
    expect((entry.timings as Array<{ step: string }>).map((t) => t.step)).toEqual(expect.arrayContaining(['inject', 'reload', 'trace']));
    expect(entry.trace).toMatchObject({ final: { status: 'completed', programId: injectionId } });

    // The Web UI reads the tree on its own: the swarm names its program, targets and caller; each child its agent and program.
    const temporal = await testClient();
    try {
      const swarm = await temporal.client.workflow.getHandle(injectionId).describe();
      expect(await swarm.staticSummary()).toBe(`inject REDUCE_COSTS BY 15% → group ${agents.group} (priority high)`);
      expect(await swarm.staticDetails()).toMatch(/\*\*Requested by\*\* token:[0-9a-f]{16} \(request [0-9a-f-]{36}\)[\s\S]*BUDGET: \$500/);
      const child = await temporal.client.workflow.getHandle(childWorkflowId(injectionId, agentId)).describe();
      expect(await child.staticSummary()).toMatch(new RegExp(`^agent ${agentId} ← program ${injectionId} \\(sha256 [0-9a-f]{12}\\)$`));
    } finally {
      await temporal.close();
    }

    const listed = await eventually(async () => {
      const { body } = await http('GET', `/injections?agent=${agentId}&status=succeeded`);
      return (body.items as Array<{ injectionId: string }>).some((i) => i.injectionId === injectionId) ? true : undefined;
    }, 'the injection listed by agent and status');
    expect(listed).toBe(true);

    const metrics = await (await fetch(`${injector.gateway.url}/metrics`, { headers: { Authorization: `Bearer ${TOKEN}` } })).text();
    expect(metrics).toMatch(/^openclaw_injections_started_total [1-9]/m);
    expect(metrics).toMatch(/^openclaw_gateway_requests_total\{method="POST",route="\/inject-swarm",status="202"\} [1-9]/m);
  });

  it('POST /compile asks the workers which agents it would hit: the gateway holds no Docker socket', async () => {
    const byGroup = await http('POST', '/compile', { instruction: 'REDUCE_COSTS BY 1%', group: agents.group });
    expect(byGroup.status).toBe(200);
    const targets = byGroup.body.targets as { selector: unknown; agents: Array<{ agentId: string; host: string }>; missing: string[]; error?: string };
    expect(targets.selector).toEqual({ group: agents.group });
    expect(targets.agents.map((a) => a.agentId).sort()).toEqual(agents.agents.map((a) => a.agentId).sort());
    expect(new Set(targets.agents.map((a) => a.host))).toEqual(new Set(['local']));
    expect(targets.missing).toEqual([]);
    expect(targets.error).toBeUndefined();
    const byIds = await http('POST', '/compile', { instruction: 'REDUCE_COSTS BY 1%', agents: [agents.agents[2].agentId, 'ghost-nowhere'] });
    expect(byIds.body.targets).toEqual({ selector: { agentIds: [agents.agents[2].agentId, 'ghost-nowhere'] }, agents: [{ agentId: agents.agents[2].agentId, host: 'local' }], missing: ['ghost-nowhere'] });
  });

  it("a dry run's bytecode is refused by a real agent: the gateway's output is unsigned, and it holds no key", async () => {
    const dryRun = await http('POST', '/compile', { instruction: 'REDUCE_COSTS BY 15%' });
    expect(dryRun.body).toMatchObject({ dryRun: true, programId: 'dry-run' });
    const agent = agents.agents[5];
    const { trace } = await reloadAndTrace(agents.channel, agent.containerId, `dry-run-replay-${Date.now()}`, Buffer.from(dryRun.body.bytecode as string, 'base64'));
    expect(trace.final).toMatchObject({ status: 'error', error: { code: 'BC_UNSIGNED' } });
    expect(trace.lines.filter((l) => l.status === 'completed')).toEqual([]);
  });

  it('POST /inject?wait=true answers 200 with the seed fields and the trace once the agent is injected', async () => {
    const agentId = agents.agents[0].agentId;
    const { status, body } = await http('POST', '/inject?wait=true', { agentId, instruction: 'OPTIMIZE_THROUGHPUT', priority: 'high' });
    expect(status).toBe(200);
    expect(body).toMatchObject({ agentId, success: true, status: 'succeeded', outcome: 'injected', error: null });
    expect(body.executionTime).toEqual(expect.any(Number));
    expect(body.trace).toMatchObject({ final: { status: 'completed' } });
  });

  it('PATCH maxParallel and pause/resume steer a running injection', async () => {
    const start = await http('POST', '/inject-swarm', { agents: agents.agents.slice(0, 4).map((a) => a.agentId), instruction: 'SIMULATE_WORK BY 1s {\n  MAX_PARALLEL: 1\n  CANARY: 0\n}' });
    const injectionId = start.body.injectionId as string;
    const patch = await http('PATCH', `/injections/${injectionId}`, { maxParallel: 4 });
    expect(patch).toEqual({ status: 200, body: { injectionId, maxParallel: 4, previous: 1, by: expect.stringMatching(/^token:/) } });
    expect((await http('POST', `/injections/${injectionId}/pause`)).status).toBe(202);
    const paused = await eventually(async () => {
      const { body } = await http('GET', `/injections/${injectionId}`);
      return body.paused === true ? body : undefined;
    }, 'the injection to report paused');
    expect(paused.maxParallel).toBe(4);
    expect((await http('POST', `/injections/${injectionId}/resume`)).status).toBe(202);
    expect((await untilDone(injectionId)).status).toBe('succeeded');
  });

  it('openclaw inject --watch prints live progress with counts and an ETA, and exits 0 when every agent was injected', async () => {
    const { io, out } = capturingIo();
    const code = await main(['inject', 'ok.oc', '--group', agents.group, '--watch', '--interval', '200'], io);
    expect(out.stderr).toBe('');
    expect(code).toBe(0);
    const lines = out.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^started inj-\S+$/);
    expect(lines[1]).toBe('watching it (Ctrl-C stops the watch, not the injection)');
    expect(lines.some((l) => / \[[#-]{20}\] \d+\/10 injected \d+ failed 0 running \d+ pending \d+ (ETA \S+|done)$/.test(l))).toBe(true);
    expect(lines).toContainEqual(expect.stringMatching(/ succeeded \[#{20}\] 10\/10 injected 10 failed 0 running 0 pending 0 done$/));
    expect(lines[lines.length - 1]).toMatch(/ended: succeeded$/);

    const injectionId = /^started (\S+)$/.exec(lines[0])?.[1] as string;
    const status = capturingIo();
    expect(await main(['status', injectionId, '--json'], status.io)).toBe(0);
    expect(JSON.parse(status.out.stdout)).toMatchObject({ injectionId, status: 'succeeded' });
    const list = capturingIo();
    expect(await main(['list', '--status', 'succeeded', '--limit', '100'], list.io)).toBe(0);
    await eventually(async () => {
      const again = capturingIo();
      await main(['list', '--status', 'succeeded', '--limit', '100'], again.io);
      return again.out.stdout.includes(injectionId) ? true : undefined;
    }, 'the CLI list to show the injection');
    const history = capturingIo();
    expect(await main(['history', agents.agents[1].agentId, '--limit', '3'], history.io)).toBe(0);
    expect(history.out.stdout).toMatch(/injected in \d+ ms \(.*inject \d+ms/);

    // One injection per page: the first page says how to get the next, and the next holds another injection.
    const entryIds = (stdout: string) => stdout.split('\n').flatMap((l) => /^ {2}\S+ {2}(\S+) {2}/.exec(l)?.[1] ?? []);
    const firstPage = capturingIo();
    expect(await main(['history', agents.agents[1].agentId, '--limit', '1'], firstPage.io)).toBe(0);
    const more = /^more: openclaw history \S+ --page-token (\S+)$/m.exec(firstPage.out.stdout);
    expect(more).not.toBeNull();
    const secondPage = capturingIo();
    expect(await main(['history', agents.agents[1].agentId, '--limit', '1', '--page-token', more?.[1] ?? ''], secondPage.io)).toBe(0);
    expect(entryIds(firstPage.out.stdout)).toHaveLength(1);
    expect(entryIds(secondPage.out.stdout)).toHaveLength(1);
    expect(entryIds(secondPage.out.stdout)[0]).not.toBe(entryIds(firstPage.out.stdout)[0]);
  });

  it('openclaw inject --watch exits 1 and says why when the injection fails', async () => {
    const { io, out } = capturingIo();
    const code = await main(['inject', 'fails.oc', '--agents', agents.agents.slice(0, 3).map((a) => a.agentId).join(','), '--watch', '--interval', '200'], io);
    expect(code).toBe(1);
    expect(out.stdout).toMatch(/ended: (failure-budget-exceeded|partially-succeeded)/);
  });

  it('the CLI reports gateway errors with exit 1, and usage errors with exit 2', async () => {
    const missing = capturingIo();
    expect(await main(['status', 'no-such-injection'], missing.io)).toBe(1);
    expect(missing.out.stderr).toMatch(/404 INJECTION_NOT_FOUND/);
    const usage = capturingIo();
    expect(await main(['pause'], usage.io)).toBe(2);
    const badToken = capturingIo();
    expect(await main(['list', '--token', 'x'.repeat(40)], badToken.io)).toBe(1);
    expect(badToken.out.stderr).toMatch(/403 FORBIDDEN/);
  });
});
