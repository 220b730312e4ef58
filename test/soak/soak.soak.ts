// The sustained run (`npm run soak`, not part of `npm test`): SOAK_LANES injections in flight at all times, each lane
// over its own SOAK_AGENTS_PER_LANE real agents, back to back for SOAK_SECONDS, against one worker process whose memory
// (VmRSS) is sampled every few seconds. Fails on a lost injection or on memory that keeps growing. Loopback only.
import { readFileSync } from 'node:fs';
import type { AgentRef } from '../../src/docker';
import { startAgents, TestAgents } from '../support/agents';
import { assertWorkerBuilt, WorkerProcesses } from '../support/faults';
import { startTestInjector, TestInjector } from '../support/injector';
import { testTemporalAddress } from '../support/temporal';

const LANES = Number(process.env.SOAK_LANES ?? 4);
const AGENTS_PER_LANE = Number(process.env.SOAK_AGENTS_PER_LANE ?? 5);
const DURATION_MS = Number(process.env.SOAK_SECONDS ?? 300) * 1000;
const SAMPLE_EVERY_MS = 5_000;
/** Samples before this share of the run are warm-up (JIT, caches, bundle) and not judged. */
const WARM_UP_SHARE = 0.25;
/** The steady state may not grow faster than this. */
const MAX_GROWTH_MB_PER_MINUTE = 2;

let agents: TestAgents;
let injector: TestInjector;
let workers: WorkerProcesses;

beforeAll(async () => {
  assertWorkerBuilt();
  agents = await startAgents(LANES * AGENTS_PER_LANE, { name: 'soak' });
  injector = await startTestInjector({ signingKey: agents.signingKey, workers: false });
  workers = new WorkerProcesses({ temporalAddress: testTemporalAddress(), taskQueue: injector.config.taskQueue, signingKey: agents.signingKey });
}, 300_000);

afterAll(async () => {
  await workers?.killAll();
  await injector?.stop();
  await agents?.remove();
});

function rssMb(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Number(match[1]) / 1024 : NaN;
}

/** Least-squares slope of (minutes, MB). */
function slopePerMinute(samples: { atMs: number; mb: number }[]): number {
  const xs = samples.map((s) => s.atMs / 60_000);
  const ys = samples.map((s) => s.mb);
  const mx = xs.reduce((a, b) => a + b, 0) / xs.length;
  const my = ys.reduce((a, b) => a + b, 0) / ys.length;
  const num = xs.reduce((sum, x, i) => sum + (x - mx) * (ys[i] - my), 0);
  const den = xs.reduce((sum, x) => sum + (x - mx) ** 2, 0);
  return den === 0 ? 0 : num / den;
}

it(`soak: ${LANES} injections in flight over ${LANES * AGENTS_PER_LANE} agents; no injection lost, no memory growth`, async () => {
  const pid = workers.start().pid!;
  const started = Date.now();
  const samples: { atMs: number; mb: number }[] = [];
  const sampler = setInterval(() => samples.push({ atMs: Date.now() - started, mb: rssMb(pid) }), SAMPLE_EVERY_MS);
  const startedIds: string[] = [];
  const lost: string[] = [];
  const lastOf = new Map<string, string>();

  const lane = async (refs: AgentRef[], n: number) => {
    for (let i = 0; Date.now() - started < DURATION_MS; i++) {
      const injectionId = `soak-${n}-${i}-${started}`;
      startedIds.push(injectionId);
      const result = await injector.runSwarm({
        injectionId,
        source: i % 2 === 0 ? 'REDUCE_COSTS BY 5% {\n  MAX_PARALLEL: 5\n  CANARY: 1\n}' : 'OPTIMIZE_THROUGHPUT BY 3% {\n  MAX_PARALLEL: 5\n  CANARY: 0\n}',
        targets: { agentIds: refs.map((a) => a.agentId) },
      });
      if (result.status !== 'succeeded' || result.counts.injected !== refs.length) lost.push(`${injectionId}: ${result.status} ${JSON.stringify(result.counts)}`);
      for (const a of refs) lastOf.set(a.agentId, injectionId);
    }
  };
  try {
    await Promise.all(Array.from({ length: LANES }, (_, n) => lane(agents.agents.slice(n * AGENTS_PER_LANE, (n + 1) * AGENTS_PER_LANE), n)));
  } finally {
    clearInterval(sampler);
  }
  // The agents themselves run each lane's last injection.
  for (const agent of agents.agents) expect((await injector.channel.current(agent.containerId))?.programId).toBe(lastOf.get(agent.agentId));

  const judged = samples.filter((s) => s.atMs >= DURATION_MS * WARM_UP_SHARE);
  const slope = slopePerMinute(judged);
  const figures = {
    injections: startedIds.length,
    agentInjections: startedIds.length * AGENTS_PER_LANE,
    lost: lost.length,
    seconds: Math.round((Date.now() - started) / 1000),
    rssMbFirst: samples[0]?.mb.toFixed(1),
    rssMbPeak: Math.max(...samples.map((s) => s.mb)).toFixed(1),
    rssMbLast: samples[samples.length - 1]?.mb.toFixed(1),
    steadySlopeMbPerMin: slope.toFixed(2),
  };
  console.log(`soak: ${JSON.stringify(figures)}`);
  expect(lost).toEqual([]);
  expect(judged.length).toBeGreaterThanOrEqual(3);
  expect(slope).toBeLessThan(MAX_GROWTH_MB_PER_MINUTE);
}, DURATION_MS + 600_000);
