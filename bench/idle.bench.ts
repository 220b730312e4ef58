// What idle reference agents cost the host: N agents started and left alone, their containers' CPU (Docker's own
// per-container accounting) and the Docker daemons' CPU over a window, as a share of one core. The baseline, in the
// same run, is the same agents with Docker's exec HEALTHCHECK (`swarm:up --healthcheck`, the image's old default).
import { randomBytes } from 'node:crypto';
import type Docker from 'dockerode';
import { LABEL_GROUP } from '../src/agent/protocol';
import { createDockerAdapter } from '../src/docker';
import { createSwarmManager, mapConcurrent } from '../src/docker/agent-swarm';
import { dockerodeFor } from '../src/docker/dockerode-adapter';
import { formatTrustedKeys, generateSigningKeyPair } from '../src/signing/keys';
import { ensureAgentImage, waitUntilReady } from '../test/support/agents';
import { findProcess, loadAverage, parseOptions, positiveInteger, startCpuMeter } from './measure';

export const OPTIONS: readonly string[] = ['agents', 'seconds'];
const DEFAULT_AGENTS = 100;
const MAX_AGENTS = 500;
const DEFAULT_WINDOW_S = 60;
const MAX_WINDOW_S = 600;
/** After start-up, before measuring: the start-up's own work (and the first health checks) settles. */
const SETTLE_MS = 20_000;
const STATS_CONCURRENCY = 8;
/** The bar: 100 idle agents within 5% of one core, all told. */
const TARGET_CORE_SHARE_PER_100 = 0.05;
const BENCH_LABEL = 'openclaw.bench';

interface IdlePass {
  label: string;
  agents: number;
  windowMs: number;
  containersCore: number;
  daemonsCore: number;
  loadAverage: string;
}

/** Total CPU nanoseconds each container has used, by Docker's accounting (cgroup v1 or v2 alike). */
async function containerCpuNs(docker: Docker, ids: string[]): Promise<number> {
  const each = await mapConcurrent(ids, STATS_CONCURRENCY, async (id) => {
    const stats = (await docker.getContainer(id).stats({ stream: false, 'one-shot': true } as { stream: false })) as { cpu_stats?: { cpu_usage?: { total_usage?: number } } };
    return stats.cpu_stats?.cpu_usage?.total_usage ?? 0;
  });
  return each.reduce((a, b) => a + b, 0);
}

function daemonPids(): Record<string, number | null> {
  return { dockerd: findProcess('dockerd'), containerd: findProcess('containerd') };
}

async function measurePass(label: string, count: number, windowMs: number, healthcheck: boolean): Promise<IdlePass> {
  const dockerHost = process.env.DOCKER_HOST ?? 'unix:///var/run/docker.sock';
  const swarm = createSwarmManager({ dockerHost });
  const docker = dockerodeFor({ dockerHost });
  const group = `idle-${randomBytes(3).toString('hex')}`;
  const key = generateSigningKeyPair('idle-bench');
  try {
    const agents = await swarm.up({
      count,
      group,
      prefix: group,
      image: await ensureAgentImage(),
      trustedKeys: formatTrustedKeys(new Map([[key.keyId, key.publicKey]])),
      healthcheck,
      extraLabels: { [BENCH_LABEL]: '1' },
    });
    const ids = agents.map((a) => a.containerId);
    await waitUntilReady(createDockerAdapter({ dockerHost }), ids);
    await new Promise((r) => setTimeout(r, SETTLE_MS));
    const before = await containerCpuNs(docker, ids);
    const t0 = performance.now();
    const daemons = startCpuMeter(daemonPids());
    await new Promise((r) => setTimeout(r, windowMs));
    const cpu = daemons.stop();
    const after = await containerCpuNs(docker, ids);
    const wallMs = performance.now() - t0;
    const daemonsMs = (cpu.processes.dockerd.cpuMs ?? 0) + (cpu.processes.containerd.cpuMs ?? 0);
    return { label, agents: count, windowMs: wallMs, containersCore: (after - before) / 1e6 / wallMs, daemonsCore: daemonsMs / cpu.wallMs, loadAverage: loadAverage() };
  } finally {
    await swarm.down({ [BENCH_LABEL]: '1', [LABEL_GROUP]: group });
  }
}

export async function run(args: readonly string[] = []): Promise<void> {
  const options = parseOptions(args, OPTIONS);
  const count = positiveInteger(options, 'agents', DEFAULT_AGENTS, MAX_AGENTS);
  const windowMs = positiveInteger(options, 'seconds', DEFAULT_WINDOW_S, MAX_WINDOW_S) * 1000;
  console.log(`idle bench: ${count} idle reference agents, ${windowMs / 1000} s window, load average before start ${loadAverage()}`);
  const baseline = await measurePass('exec HEALTHCHECK every 15 s (swarm:up --healthcheck)', count, windowMs, true);
  const idle = await measurePass('no HEALTHCHECK, heartbeat read on demand (default)', count, windowMs, false);
  const pct = (share: number) => `${(share * 100).toFixed(1)}%`;
  console.log('\npass                                                      agents  containers  dockerd+containerd  total (of one core)  load average at end');
  for (const p of [baseline, idle]) {
    console.log(`${p.label.padEnd(58)}${String(p.agents).padStart(6)}  ${pct(p.containersCore).padStart(10)}  ${pct(p.daemonsCore).padStart(18)}  ${pct(p.containersCore + p.daemonsCore).padStart(19)}  ${p.loadAverage}`);
  }
  const total = (p: IdlePass) => p.containersCore + p.daemonsCore;
  const target = (TARGET_CORE_SHARE_PER_100 * count) / 100;
  console.log(`ratio default / baseline: ${(total(idle) / total(baseline)).toFixed(2)}; target ${pct(target)} of one core for ${count} agents: ${total(idle) <= target ? 'met' : 'MISSED'}`);
  console.log(JSON.stringify({ bench: 'idle', baseline, idle, ratio: total(idle) / total(baseline) }));
}
