// OpenClaw gateways beside reference agents: N of each on one engine, one dev server, one set of the product's workers
// (Docker archive API mode, as the swarm bench's (b)); swarm injections over HTTP into each kind in turn, agents/s of
// each and their ratio within the run, per-step times from the children's own results, and the load average.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { LABEL_GROUP } from '../src/agent/protocol';
import { loadConfig } from '../src/config';
import { createDockerAdapter, DockerAdapter, isDockerAdapterError } from '../src/docker';
import { createSwarmManager, mapConcurrent, startOpenClawGateways } from '../src/docker/agent-swarm';
import { startGateway, startWorkers } from '../src/runtime';
import type { AgentInjectionResult } from '../src/shared/injection-types';
import { createLogger } from '../src/shared/logger';
import { formatSigningKey, formatTrustedKeys, generateSigningKeyPair } from '../src/signing/keys';
import { ensureAgentImage, waitUntilReady } from '../test/support/agents';
import { ensureOpenClawImage, skillsStatus } from '../test/openclaw/gateways';
import { benchCleanup, findProcess, loadAverage, parseOptions, percentile, positiveInteger, startBenchDevServer, startCpuMeter } from './measure';
import { BENCH_LABEL, benchSource, duration, fmt, gatewayJson, share, TOKEN } from './swarm.bench';

export const DEFAULT_AGENTS = 3;
/** Each gateway takes about 0.9 GB. */
export const MAX_GATEWAYS = 8;
export const DEFAULT_ROUNDS = 2;
export const MAX_ROUNDS = 5;
const GATEWAY_READY_TIMEOUT_MS = 300_000;
const READY_POLL_MS = 1_000;
const INJECTION_TIMEOUT_MS = 4 * 60_000;
const STATUS_POLL_MS = 250;
const STEPS = ['snapshot', 'inject', 'reload', 'trace', 'verify'] as const;
type Step = (typeof STEPS)[number];
type Kind = 'reference' | 'openclaw';

/** The options `npm run bench -- openclaw` takes. */
export const OPTIONS: readonly string[] = ['agents', 'rounds'];

interface Pass {
  kind: Kind;
  round: number;
  agents: number;
  wallMs: number;
  childrenSpanMs: number;
  steps: Record<Step, number[]>;
  /** OpenClaw only: skills.status calls in each agent's trace step, and how long the first one took. */
  statusCalls: number[];
  firstStatusCallMs: number[];
  cpu: ReturnType<ReturnType<typeof startCpuMeter>['stop']>;
}

const rate = (p: Pass) => (p.agents * 1000) / p.wallMs;
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

/** Until each gateway answers skills.status (its CLI may outlast one exec's timeout while the gateway starts). */
async function waitUntilGatewaysAnswer(adapter: DockerAdapter, containerIds: string[]): Promise<void> {
  const deadline = Date.now() + GATEWAY_READY_TIMEOUT_MS;
  await Promise.all(
    containerIds.map(async (id) => {
      while ((await skillsStatus(adapter, id).catch((err: unknown) => (isDockerAdapterError(err, 'DOCKER_TIMEOUT') ? null : Promise.reject(err)))) === null) {
        if (Date.now() > deadline) throw new Error(`gateway ${id} did not answer skills.status within ${GATEWAY_READY_TIMEOUT_MS} ms`);
        await new Promise((resolve) => setTimeout(resolve, READY_POLL_MS));
      }
    }),
  );
}

/** From an OpenClaw child's trace: the skills.status lines, and the first one's duration (from the switch line before it). */
function statusCallsOf(result: AgentInjectionResult): { calls: number; firstMs: number | null } {
  const lines = result.trace?.lines ?? [];
  const calls = lines.filter((l) => l.instruction === 'skills.status');
  const first = lines.findIndex((l) => l.instruction === 'skills.status');
  const firstMs = first > 0 ? Date.parse(String(lines[first].ts)) - Date.parse(String(lines[first - 1].ts)) : null;
  return { calls: calls.length, firstMs };
}

export async function run(args: readonly string[] = []): Promise<void> {
  const options = parseOptions(args, OPTIONS);
  const count = positiveInteger(options, 'agents', DEFAULT_AGENTS, MAX_GATEWAYS);
  const rounds = positiveInteger(options, 'rounds', DEFAULT_ROUNDS, MAX_ROUNDS);
  const runId = randomBytes(3).toString('hex');
  const groups: Record<Kind, string> = { reference: `ocb-ref-${runId}`, openclaw: `ocb-oc-${runId}` };
  const signingKey = generateSigningKeyPair(`ocbench-${runId}`);
  const dockerHost = process.env.DOCKER_HOST ?? 'unix:///var/run/docker.sock';
  const connection = { dockerHost };
  const swarm = createSwarmManager(connection);
  const adapter = createDockerAdapter(connection);
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'openclaw-openclaw-bench-data-'));
  const { cleanups, done } = benchCleanup('openclaw bench');
  cleanups.push(
    async () => rmSync(dataDir, { recursive: true, force: true }),
    async () => void (await swarm.down({ [BENCH_LABEL]: '1', [LABEL_GROUP]: groups.reference })),
    async () => void (await swarm.down({ [BENCH_LABEL]: '1', [LABEL_GROUP]: groups.openclaw })),
  );
  try {
    console.log(`openclaw bench: ${count} reference agents and ${count} OpenClaw gateways on one engine, ${rounds} rounds; load average before start ${loadAverage()}`);
    const [agentImage, gatewayImage] = [await ensureAgentImage(), await ensureOpenClawImage()];
    // Started and made ready before anything is timed: a gateway takes ~6 s (more under load) to answer.
    let t0 = performance.now();
    const agents = await swarm.up({ count, group: groups.reference, prefix: groups.reference, image: agentImage, trustedKeys: formatTrustedKeys(new Map([[signingKey.keyId, signingKey.publicKey]])), extraLabels: { [BENCH_LABEL]: '1' } });
    await waitUntilReady(adapter, agents.map((a) => a.containerId));
    console.log(`  ${count} reference agents ready in ${duration(performance.now() - t0)}`);
    t0 = performance.now();
    const gateways = await startOpenClawGateways(connection, { count, group: groups.openclaw, prefix: groups.openclaw, image: gatewayImage, extraLabels: { [BENCH_LABEL]: '1' } });
    await waitUntilGatewaysAnswer(adapter, gateways.map((g) => g.containerId));
    console.log(`  ${count} OpenClaw gateways answering skills.status in ${duration(performance.now() - t0)}`);
    const agentIds: Record<Kind, string[]> = { reference: agents.map((a) => a.agentId), openclaw: gateways.map((g) => g.agentId) };

    const devServer = await startBenchDevServer('openclaw');
    cleanups.push(() => devServer.stop());
    const temporal = await Connection.connect({ address: devServer.server.address });
    cleanups.push(() => temporal.close());
    const client = new Client({ connection: temporal });
    const logger = createLogger({ level: 'error', component: 'openclaw-bench' });
    const config = loadConfig({
      DOCKER_HOST: dockerHost,
      TEMPORAL_ADDRESS: devServer.server.address,
      OPENCLAW_TASK_QUEUE: `ocbench-${runId}`,
      OPENCLAW_SIGNING_KEY: formatSigningKey(signingKey),
      OPENCLAW_API_TOKENS: TOKEN,
      OPENCLAW_DATA_DIR: dataDir,
      OPENCLAW_LOG_LEVEL: 'error',
    });
    const workers = await startWorkers({ config, temporalAddress: devServer.server.address, logger });
    cleanups.push(() => workers.stop());
    const gateway = await startGateway({ config, temporalAddress: devServer.server.address, logger, port: 0 });
    cleanups.push(() => gateway.stop());
    const pids = { dockerd: findProcess('dockerd'), containerd: findProcess('containerd'), devServer: devServer.server.pid };

    /** One swarm injection into one kind: all of them at once (MAX_PARALLEL N, CANARY 0), timed from POST to done. */
    const pass = async (kind: Kind, round: number): Promise<Pass> => {
      const meter = startCpuMeter(pids);
      const started = performance.now();
      const reply = await gatewayJson<{ injectionId: string }>(`${gateway.url}/inject-swarm`, { method: 'POST', body: { group: groups[kind], instruction: benchSource(count, 0) } });
      if (reply.status !== 202) throw new Error(`POST /inject-swarm answered ${reply.status}: ${JSON.stringify(reply.body)}`);
      const { injectionId } = reply.body;
      let view: { done: boolean; status: string; counts: unknown } | null = null;
      while (!view?.done) {
        if (performance.now() - started > INJECTION_TIMEOUT_MS) throw new Error(`injection ${injectionId} not done in ${INJECTION_TIMEOUT_MS} ms`);
        await new Promise((resolve) => setTimeout(resolve, STATUS_POLL_MS));
        view = (await gatewayJson<{ done: boolean; status: string; counts: unknown }>(`${gateway.url}/injections/${injectionId}?limit=1`, { method: 'GET' })).body;
      }
      const wallMs = performance.now() - started;
      const cpu = meter.stop();
      if (view.status !== 'succeeded') throw new Error(`${kind} injection ${injectionId} ended ${view.status}: ${JSON.stringify(view.counts)}`);
      const children = await mapConcurrent(agentIds[kind], 10, (id) => client.workflow.getHandle(`${injectionId}/${id}`).result() as Promise<AgentInjectionResult>);
      const steps = Object.fromEntries(STEPS.map((s) => [s, [] as number[]])) as Record<Step, number[]>;
      for (const child of children) for (const t of child.timings) if ((STEPS as readonly string[]).includes(t.step)) steps[t.step as Step].push(t.ms);
      const status = kind === 'openclaw' ? children.map(statusCallsOf) : [];
      return {
        kind,
        round,
        agents: children.length,
        wallMs,
        childrenSpanMs: Math.max(...children.map((c) => Date.parse(c.finishedAt))) - Math.min(...children.map((c) => Date.parse(c.startedAt))),
        steps,
        statusCalls: status.map((s) => s.calls),
        firstStatusCallMs: status.flatMap((s) => (s.firstMs === null ? [] : [s.firstMs])),
        cpu,
      };
    };

    // Untimed: every agent gets a program first, so each timed pass replaces one (snapshot and rollback points are real).
    for (const kind of ['reference', 'openclaw'] as const) await pass(kind, 0);
    const passes: Pass[] = [];
    // Alternating, the order flipped each round (ABBA…): the shared machine's drift falls on both kinds alike.
    for (let round = 1; round <= rounds; round++) {
      const order: Kind[] = round % 2 === 1 ? ['reference', 'openclaw'] : ['openclaw', 'reference'];
      for (const kind of order) passes.push(await pass(kind, round));
    }

    const of = (kind: Kind) => passes.filter((p) => p.kind === kind);
    const ratios = Array.from({ length: rounds }, (_, i) => rate(of('openclaw')[i]) / rate(of('reference')[i]));
    console.log(`\nopenclaw bench, ${count} of each kind; load average at the end ${loadAverage()}`);
    console.log('kind       round  agents  total     agents/s  children span  dockerd         dev server      bench process');
    for (const p of passes) {
      console.log(
        `${p.kind.padEnd(10)} ${String(p.round).padStart(5)}  ${String(p.agents).padStart(6)}  ${duration(p.wallMs).padEnd(8)}  ${rate(p).toFixed(3).padStart(8)}  ${duration(p.childrenSpanMs).padEnd(13)}  ${share(p.cpu.processes.dockerd.coreShare).padEnd(15)} ${share(p.cpu.processes.devServer.coreShare).padEnd(15)} ${share(p.cpu.processes.self.coreShare)}`,
      );
    }
    const meanRate = (kind: Kind) => mean(of(kind).map(rate));
    console.log(`\nmean agents/s: reference ${meanRate('reference').toFixed(3)}, OpenClaw ${meanRate('openclaw').toFixed(3)}; OpenClaw / reference per round ${ratios.map((r) => r.toFixed(3)).join(', ')} (mean ${mean(ratios).toFixed(3)})`);
    console.log('per-step latency, ms      reference p50 / p95     OpenClaw p50 / p95');
    const all = (kind: Kind, step: Step) => of(kind).flatMap((p) => p.steps[step]);
    for (const step of STEPS) {
      console.log(`  ${step.padEnd(22)} ${fmt(percentile(all('reference', step), 50)).padStart(8)} / ${fmt(percentile(all('reference', step), 95)).padEnd(12)} ${fmt(percentile(all('openclaw', step), 50)).padStart(8)} / ${fmt(percentile(all('openclaw', step), 95))}`);
    }
    const calls = of('openclaw').flatMap((p) => p.statusCalls);
    const firstCall = of('openclaw').flatMap((p) => p.firstStatusCallMs);
    console.log(
      `OpenClaw trace step: skills.status calls per agent p50 ${fmt(percentile(calls, 50))}, max ${fmt(Math.max(...calls))}; one skills.status call (an exec that starts the OpenClaw CLI) p50 ${fmt(percentile(firstCall, 50))} ms, p95 ${fmt(percentile(firstCall, 95))} ms`,
    );
    console.log(
      JSON.stringify({
        bench: 'openclaw',
        agentsPerKind: count,
        rounds,
        loadAverage: loadAverage(),
        agentsPerSecond: { reference: Number(meanRate('reference').toFixed(3)), openclaw: Number(meanRate('openclaw').toFixed(3)) },
        ratioOpenClawToReference: Number(mean(ratios).toFixed(3)),
        passes: passes.map((p) => ({ kind: p.kind, round: p.round, seconds: Number((p.wallMs / 1000).toFixed(2)), agentsPerSecond: Number(rate(p).toFixed(3)) })),
        stepsP50: Object.fromEntries((['reference', 'openclaw'] as const).map((k) => [k, Object.fromEntries(STEPS.map((s) => [s, Math.round(percentile(all(k, s), 50))]))])),
        skillsStatusCallMsP50: Math.round(percentile(firstCall, 50)),
        skillsStatusCallsPerAgentP50: percentile(calls, 50),
      }),
    );
  } finally {
    await done();
  }
}

if (require.main === module) {
  run(process.argv.slice(2)).catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
