// Real-swarm benchmark on N real agent containers: (a) the raw Docker limit — plain dockerode making agent protocol
// v2's two calls per agent (one archive with program and signal, the reads of the agent's answer) — at its best
// concurrency, and v1's ten-call script beside it; (b) the durable injector end to end over HTTP; (c) the seed's
// design (5 at a time, a fixed 30 s trace window), measured on a few agents and extrapolated; (f) the Temporal floor,
// bare children at (b)'s window with no Docker, and what its CPU leaves (b) on a machine (a) saturates. All in one run.
import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { chown, readFile, rename, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { tsToMs } from '@temporalio/common';
import Docker from 'dockerode';
import * as tar from 'tar-stream';
import { formatReloadSignal, formatReloadSignalV2, LABEL_AGENT_ID, LABEL_GROUP, LABEL_ROLE, LABEL_ROLE_AGENT, outcomeFile, stagedProgramFile } from '../src/agent/protocol';
import { compile } from '../src/compiler';
import { formatSigningKey, formatTrustedKeys, generateSigningKeyPair, SigningKeyPair } from '../src/signing/keys';
import { DEFAULT_ENVELOPE_TTL_MS, sealForInstall } from '../src/signing/sealing';
import { createLocalSigner } from '../src/signing/signer';
import { loadConfig } from '../src/config';
import { createDockerAdapter } from '../src/docker';
import { CONTAINER_CHECK_INTERVAL_MS, OUTCOME_FIRST_READ_MS, TRACE_POLL_GROWTH, TRACE_POLL_INITIAL_MS, TRACE_POLL_MAX_MS } from '../src/docker/agent-channel';
import { createSwarmManager, mapConcurrent } from '../src/docker/agent-swarm';
import { dockerodeFor } from '../src/docker/dockerode-adapter';
import { configuredWorkerTuning, startGateway, startWorkers } from '../src/runtime';
import type { AgentInjectionResult } from '../src/shared/injection-types';
import type { InjectorWorkersOptions } from '../src/worker/worker';
import { createLogger } from '../src/shared/logger';
import { ensureAgentImage, waitUntilReady } from '../test/support/agents';
import { runFloor } from './floor/floor-run';
import { SCALE_TUNING } from './scale.bench';
import { benchCleanup, findProcess, loadAverage, parseOptions, percentile, positiveInteger, startBenchDevServer, startCpuMeter } from './measure';

export const DEFAULT_AGENTS = 100;
export const DEFAULT_CONCURRENCIES = [10, 20, 50];
export const DEFAULT_SEED_AGENTS = 10;
/** The seed's design: this many agents at a time, each given a fixed trace window. */
export const SEED_BATCH = 5;
export const SEED_TRACE_WINDOW_MS = 30_000;
/** The fleet the issue is sized for; (b) vs (c) is extrapolated to it. */
export const REFERENCE_FLEET = 1_159;
export const MAX_BENCH_AGENTS = 1_000;
const TRACE_TIMEOUT_MS = 60_000;
const INJECTION_TIMEOUT_MS = 15 * 60_000;
const STATUS_POLL_MS = 250;
const IDLE_SAMPLE_MS = 5_000;
export const BENCH_LABEL = 'openclaw.bench';
export const TOKEN = randomBytes(24).toString('hex');
const PROGRAMS_DIR = '/app/injected-programs';
const LOG_PATH = '/app/logs/execution.log';

/** The program every path injects; the injector compiles and seals it itself, (a) and (c) here with the same key. */
export function benchSource(maxParallel: number, canary?: number): string {
  return `REDUCE_COSTS BY 15% {\n  BUDGET: $500\n  MAX_PARALLEL: ${maxParallel}${canary === undefined ? '' : `\n  CANARY: ${canary}`}\n}`;
}

/** The program compiled once, then sealed for each agent as the injector's workers do (a program is bound to one agent). */
function compiled(programId: string, signingKey: SigningKeyPair): (agentId: string) => Promise<Buffer> {
  const result = compile(benchSource(DEFAULT_CONCURRENCIES[0]), {}, { programId });
  if (!result.ok || !result.bytecode) throw new Error(`bench program does not compile: ${JSON.stringify(result.diagnostics)}`);
  const unsigned = result.bytecode;
  const sealing = { signer: createLocalSigner(signingKey), trustedKeys: new Map([[signingKey.keyId, signingKey.publicKey]]), envelopeTtlMs: DEFAULT_ENVELOPE_TTL_MS };
  return async (agentId) => (await sealForInstall(sealing, { compiled: unsigned, agentId, reloadId: programId })).bytes;
}

type StepName = 'snapshot' | 'inject' | 'reload' | 'trace' | 'verify';
const STEPS: readonly StepName[] = ['snapshot', 'inject', 'reload', 'trace', 'verify'];

interface PassResult {
  label: string;
  agents: number;
  wallMs: number;
  steps: Record<StepName, number[]>;
  cpu: ReturnType<ReturnType<typeof startCpuMeter>['stop']>;
}

const emptySteps = (): Record<StepName, number[]> => ({ snapshot: [], inject: [], reload: [], trace: [], verify: [] });
const rate = (p: PassResult) => (p.agents * 1000) / p.wallMs;

/** Times consecutive steps of one agent into `steps`. */
function stepClock(steps: Record<StepName, number[]>): (step: StepName) => void {
  let mark = performance.now();
  return (step) => {
    const now = performance.now();
    steps[step].push(now - mark);
    mark = now;
  };
}

/**
 * The channel's trace loop without the channel: read the log from `offset` on its growing interval until the final
 * line of `reloadId` appears, checking the container every second (as readTrace does).
 */
async function waitForFinalLine(readLog: () => Promise<Buffer | null>, inspect: () => Promise<unknown>, reloadId: string, offset: number): Promise<void> {
  let consumed = offset;
  let interval = TRACE_POLL_INITIAL_MS;
  let lastCheck = Date.now();
  const deadline = Date.now() + TRACE_TIMEOUT_MS;
  for (;;) {
    if (Date.now() > deadline) throw new Error(`raw: no final line for ${reloadId} in ${TRACE_TIMEOUT_MS} ms`);
    const log = (await readLog()) ?? Buffer.alloc(0);
    if (log.length < consumed) consumed = 0;
    const end = log.lastIndexOf(0x0a);
    if (end >= consumed) {
      const text = log.toString('utf8', consumed, end);
      consumed = end + 1;
      if (text.split('\n').some((line) => line.includes(reloadId) && line.includes('"final":true'))) return;
    }
    if (Date.now() - lastCheck >= CONTAINER_CHECK_INTERVAL_MS) {
      lastCheck = Date.now();
      await inspect();
    }
    await new Promise((resolve) => setTimeout(resolve, interval));
    interval = Math.min(TRACE_POLL_MAX_MS, Math.round(interval * TRACE_POLL_GROWTH));
  }
}

/** One putArchive of one file into the programs directory, owned by the agent's user, as the adapter writes it. */
async function putFile(container: Docker.Container, name: string, content: Buffer): Promise<void> {
  await putFiles(container, [[name, content]]);
}

/** One putArchive of several files, in order, into the programs directory. */
async function putFiles(container: Docker.Container, files: Array<[string, Buffer]>): Promise<void> {
  const pack = tar.pack();
  for (const [name, content] of files) pack.entry({ name, size: content.length, mode: 0o644, uid: 1000, gid: 1000 }, content);
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const chunk of pack as AsyncIterable<Buffer>) chunks.push(chunk);
  const response: unknown = await container.putArchive(Buffer.concat(chunks), { path: PROGRAMS_DIR });
  if (response instanceof Readable) response.resume();
}

/**
 * The Docker calls the injector's activities make for one agent (activities/docker-activities.ts and
 * src/docker/agent-channel.ts), written straight against dockerode and tar-stream with nothing around them:
 * findAgent (list by label) · snapshot (inspect; get program.bc, get CURRENT, HEAD the log; get .previous-<R>.bc, a 404
 * and its inspect; put .previous-<R>.bc) · inject (put .staged-<R>.bc) · reload (put RELOAD_SIGNAL) · trace (get the
 * log on the channel's growing interval, inspect every second) · verify (get CURRENT).
 */
function rawInjector(docker: Docker) {
  const readArchive = async (stream: Readable): Promise<Buffer> => {
    const extract = tar.extract();
    stream.pipe(extract);
    let content = Buffer.alloc(0);
    for await (const entry of extract) {
      const chunks: Buffer[] = [];
      for await (const chunk of entry as AsyncIterable<Buffer>) chunks.push(chunk);
      content = Buffer.concat(chunks);
    }
    return content;
  };
  const get = async (container: Docker.Container, filePath: string): Promise<Buffer | null> => {
    try {
      return await readArchive((await container.getArchive({ path: filePath })) as Readable);
    } catch (err) {
      if ((err as { statusCode?: number }).statusCode !== 404) throw err;
      await container.inspect(); // the adapter asks whether the file or the container is missing
      return null;
    }
  };
  const logSize = async (container: Docker.Container): Promise<number> => {
    try {
      const head = (await container.infoArchive({ path: LOG_PATH })) as IncomingMessage;
      head.resume();
      const stat = head.headers['x-docker-container-path-stat'];
      return typeof stat === 'string' ? (JSON.parse(Buffer.from(stat, 'base64').toString('utf8')) as { size: number }).size : 0;
    } catch {
      return 0;
    }
  };

  return async (agentId: string, reloadId: string, program: Buffer, steps: Record<StepName, number[]>): Promise<void> => {
    const lap = stepClock(steps);
    const [summary] = await docker.listContainers({ all: true, filters: { label: [`${LABEL_ROLE}=${LABEL_ROLE_AGENT}`, `${LABEL_AGENT_ID}=${agentId}`] } });
    if (!summary) throw new Error(`raw: no container for ${agentId}`);
    const container = docker.getContainer(summary.Id);
    await container.inspect();
    const [current, , offset] = await Promise.all([get(container, `${PROGRAMS_DIR}/program.bc`), get(container, `${PROGRAMS_DIR}/CURRENT`), logSize(container)]);
    const previousName = `.previous-${reloadId}.bc`;
    if ((await get(container, `${PROGRAMS_DIR}/${previousName}`)) === null && current) await putFile(container, previousName, current);
    lap('snapshot');
    await putFile(container, stagedProgramFile(reloadId), program);
    lap('inject');
    await putFile(container, 'RELOAD_SIGNAL', Buffer.from(formatReloadSignal(reloadId, true)));
    lap('reload');
    await waitForFinalLine(() => get(container, LOG_PATH), () => container.inspect(), reloadId, offset);
    lap('trace');
    await get(container, `${PROGRAMS_DIR}/CURRENT`);
    lap('verify');
  };
}

/**
 * Polls for the agent's v2 answer on the channel's schedule (readOutcome): a first wait, then the growing interval,
 * the container inspected every second. Each poll is one read.
 */
async function waitForOutcome(read: () => Promise<Buffer | null>, inspect: () => Promise<unknown>, reloadId: string): Promise<void> {
  let wait = OUTCOME_FIRST_READ_MS;
  let interval = TRACE_POLL_INITIAL_MS;
  let lastCheck = Date.now();
  const deadline = Date.now() + TRACE_TIMEOUT_MS;
  for (;;) {
    await new Promise((resolve) => setTimeout(resolve, wait));
    if ((await read()) !== null) return;
    if (Date.now() > deadline) throw new Error(`raw v2: no answer for ${reloadId} in ${TRACE_TIMEOUT_MS} ms`);
    if (Date.now() - lastCheck >= CONTAINER_CHECK_INTERVAL_MS) {
      lastCheck = Date.now();
      await inspect();
    }
    wait = interval;
    interval = Math.min(TRACE_POLL_MAX_MS, Math.round(interval * TRACE_POLL_GROWTH));
  }
}

/**
 * Agent protocol v2 by hand, with nothing around it: per agent one putArchive carrying the sealed program and the v2
 * signal, then reads of `.outcome-<R>.json` until it is there. Container ids are listed once per pass, up front.
 */
function rawV2Injector(docker: Docker, containerOf: Map<string, string>) {
  return async (agentId: string, reloadId: string, program: Buffer, steps: Record<StepName, number[]>): Promise<void> => {
    const lap = stepClock(steps);
    const container = docker.getContainer(containerOf.get(agentId) ?? agentId);
    await putFiles(container, [
      [stagedProgramFile(reloadId), program],
      ['RELOAD_SIGNAL', Buffer.from(formatReloadSignalV2(reloadId))],
    ]);
    lap('inject');
    const read = async () => {
      try {
        ((await container.getArchive({ path: `${PROGRAMS_DIR}/${outcomeFile(reloadId)}` })) as Readable).resume();
        return Buffer.alloc(0);
      } catch (err) {
        if ((err as { statusCode?: number }).statusCode === 404) return null;
        throw err;
      }
    };
    await waitForOutcome(read, () => container.inspect(), reloadId);
    lap('trace');
  };
}

/** v2 in host-path mode by hand: the two files written on the host (temp, rename), the answer read there. */
function rawV2HostInjector(docker: Docker, containerOf: Map<string, string>, programsDirOf: Map<string, string>) {
  return async (agentId: string, reloadId: string, program: Buffer, steps: Record<StepName, number[]>): Promise<void> => {
    const lap = stepClock(steps);
    const programs = programsDirOf.get(agentId);
    if (!programs) throw new Error(`raw v2 host: ${agentId} has no bind mount`);
    await writeHostFile(programs, stagedProgramFile(reloadId), program);
    await writeHostFile(programs, 'RELOAD_SIGNAL', Buffer.from(formatReloadSignalV2(reloadId)));
    lap('inject');
    const container = docker.getContainer(containerOf.get(agentId) ?? agentId);
    await waitForOutcome(() => readFile(path.join(programs, outcomeFile(reloadId))).catch(() => null), () => container.inspect(), reloadId);
    lap('trace');
  };
}

async function writeHostFile(dir: string, name: string, content: Buffer): Promise<void> {
  const temp = path.join(dir, `.${name}.${randomBytes(6).toString('hex')}.tmp`);
  await writeFile(temp, content, { mode: 0o644 });
  await chown(temp, 1000, 1000);
  await rename(temp, path.join(dir, name));
}

/** The seed's loop: 5 agents at a time; each gets its program and signal, then a fixed 30 s wait, then one log read. */
function seedInjector(docker: Docker) {
  return async (agentId: string, reloadId: string, program: Buffer): Promise<void> => {
    const [summary] = await docker.listContainers({ all: true, filters: { label: [`${LABEL_AGENT_ID}=${agentId}`] } });
    if (!summary) throw new Error(`seed: no container for ${agentId}`);
    const container = docker.getContainer(summary.Id);
    await putFile(container, stagedProgramFile(reloadId), program);
    await putFile(container, 'RELOAD_SIGNAL', Buffer.from(formatReloadSignal(reloadId, true)));
    await new Promise((resolve) => setTimeout(resolve, SEED_TRACE_WINDOW_MS));
    ((await container.getArchive({ path: LOG_PATH })) as Readable).resume();
  };
}

/**
 * The raw limit of the host-path mode: the same steps with the files read and written on the host (bind mounts), and
 * the Docker calls that remain — list by label, inspect (state, and the mounts), inspect every second while tracing.
 */
function rawHostInjector(docker: Docker) {
  const read = (file: string) => readFile(file).catch((err: NodeJS.ErrnoException) => (err.code === 'ENOENT' ? null : Promise.reject(err)));
  const write = writeHostFile;
  return async (agentId: string, reloadId: string, program: Buffer, steps: Record<StepName, number[]>): Promise<void> => {
    const lap = stepClock(steps);
    const [summary] = await docker.listContainers({ all: true, filters: { label: [`${LABEL_ROLE}=${LABEL_ROLE_AGENT}`, `${LABEL_AGENT_ID}=${agentId}`] } });
    if (!summary) throw new Error(`raw host: no container for ${agentId}`);
    const container = docker.getContainer(summary.Id);
    const info = await container.inspect();
    const source = (destination: string) => info.Mounts.find((m) => m.Destination === destination)?.Source;
    const programs = source(PROGRAMS_DIR);
    const logs = source('/app/logs');
    if (!programs || !logs) throw new Error(`raw host: ${agentId} has no bind mounts`);
    const logFile = path.join(logs, 'execution.log');
    const [current, , offset] = await Promise.all([read(path.join(programs, 'program.bc')), read(path.join(programs, 'CURRENT')), stat(logFile).then((s) => s.size, () => 0)]);
    const previousName = `.previous-${reloadId}.bc`;
    if ((await read(path.join(programs, previousName))) === null && current) await write(programs, previousName, current);
    lap('snapshot');
    await write(programs, stagedProgramFile(reloadId), program);
    lap('inject');
    await write(programs, 'RELOAD_SIGNAL', Buffer.from(formatReloadSignal(reloadId, true)));
    lap('reload');
    await waitForFinalLine(() => read(logFile), () => container.inspect(), reloadId, offset);
    lap('trace');
    await read(path.join(programs, 'CURRENT'));
    lap('verify');
  };
}

interface InjectionStatus {
  done: boolean;
  status: string;
  counts: Record<string, number>;
  wave?: string;
}

export async function gatewayJson<T>(url: string, init: { method: 'GET' | 'POST'; body?: unknown }): Promise<{ status: number; body: T }> {
  const response = await fetch(url, {
    method: init.method,
    headers: { Authorization: `Bearer ${TOKEN}`, ...(init.body === undefined ? {} : { 'Content-Type': 'application/json' }) },
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
    signal: AbortSignal.timeout(30_000),
  });
  return { status: response.status, body: (await response.json()) as T };
}

export const fmt = (ms: number) => (Number.isFinite(ms) ? ms.toFixed(0) : '-');
export const duration = (ms: number) => (ms >= 3_600_000 ? `${(ms / 3_600_000).toFixed(2)} h` : ms >= 60_000 ? `${(ms / 60_000).toFixed(1)} min` : `${(ms / 1000).toFixed(1)} s`);
export const share = (s: number | null) => (s === null ? 'n/a' : `${(s * 100).toFixed(0)}% of a core`);
const pct = (x: number) => `${(x * 100).toFixed(0)}%`;
const busy = (p: PassResult) => (p.cpu.machine.busyShare === null ? 'n/a' : `${pct(p.cpu.machine.busyShare)} of ${p.cpu.machine.cores} cores`);

/** Local activities on a v2 agent's forward path (snapshot, inject, reload, the answer, verify): what the floor runs. */
export const FORWARD_LOCAL_STEPS = 5;
/** A pass that kept the machine at least this busy had no CPU to spare: what orchestration burns, Docker loses. */
export const SATURATED_BUSY_SHARE = 0.9;

/** CPU ms the whole machine spent per agent in a pass (every process: dockerd, the agents, Temporal, this one). */
function machineMsPerAgent(p: PassResult): number {
  return p.cpu.machine.busyShare === null ? NaN : (p.cpu.machine.busyShare * p.cpu.machine.cores * p.wallMs) / p.agents;
}

/** CPU ms per agent of the orchestration: the dev server and this process (workers, gateway, the bench's client). */
function orchestrationMsPerAgent(p: PassResult): number {
  return ((p.cpu.processes.devServer.cpuMs ?? NaN) + (p.cpu.processes.self.cpuMs ?? NaN)) / p.agents;
}

/**
 * When (a) saturates the machine, an agent costs D ms of CPU there and orchestration adds O of its own, so the most an
 * orchestrated pass can reach is D / (D + O) of (a)'s rate. O is taken from the floor: no injector can orchestrate
 * for less than bare children on the same server. (a)'s own orchestration (its client's CPU) is inside D already.
 */
function cpuCeiling(r: ModeResult): { saturated: boolean; withFloor: number; withFloorOne: number } {
  const d = machineMsPerAgent(r.best.pass);
  const raw = orchestrationMsPerAgent(r.best.pass);
  const extra = (floor: PassResult) => Math.max(0, orchestrationMsPerAgent(floor) - raw);
  return {
    saturated: (r.best.pass.cpu.machine.busyShare ?? 0) >= SATURATED_BUSY_SHARE,
    withFloor: d / (d + extra(r.floor)),
    withFloorOne: d / (d + extra(r.floorOne)),
  };
}

/** Schedule-to-start latency of workflow tasks and of the trace activity, from the children's own histories. */
async function taskLatencies(client: Client, workflowIds: string[]): Promise<{ workflowTaskMs: number[]; activityTaskMs: number[] }> {
  const workflowTaskMs: number[] = [];
  const activityTaskMs: number[] = [];
  await mapConcurrent(workflowIds, 10, async (id) => {
    const history = await client.workflow.getHandle(id).fetchHistory();
    const scheduledAt = new Map<string, number>();
    for (const event of history.events ?? []) {
      const at = tsToMs(event.eventTime);
      const eventId = String(event.eventId);
      if (event.workflowTaskScheduledEventAttributes || event.activityTaskScheduledEventAttributes) scheduledAt.set(eventId, at);
      const wft = event.workflowTaskStartedEventAttributes;
      if (wft) workflowTaskMs.push(at - (scheduledAt.get(String(wft.scheduledEventId)) ?? at));
      const act = event.activityTaskStartedEventAttributes;
      if (act) activityTaskMs.push(at - (scheduledAt.get(String(act.scheduledEventId)) ?? at));
    }
  });
  return { workflowTaskMs, activityTaskMs };
}

type Mode = 'api' | 'host';
const MODE_LABEL: Record<Mode, string> = { api: 'Docker archive API', host: 'host-path mode' };

interface ModeResult {
  mode: Mode;
  sweep: Array<{ concurrency: number; pass: PassResult }>;
  best: { concurrency: number; pass: PassResult };
  rawAfter: PassResult;
  rawRate: number;
  /** v1's ten-call script at the best concurrency: what protocol v2 saves. */
  rawV1: PassResult;
  injector: PassResult;
  /** The same with `CANARY: 0`: no wave of one agent alone first, as the raw script has none. */
  injectorNoCanary: PassResult;
  childrenSpanMs: number;
  latencies: { workflowTaskMs: number[]; activityTaskMs: number[] };
  /** (f) the Temporal floor at the same window: children with the forward path's local step count, and with one. */
  floor: PassResult;
  floorOne: PassResult;
}

/** The options `npm run bench -- swarm` takes. */
export const OPTIONS: readonly string[] = ['agents', 'concurrency', 'seed-agents', 'modes', 'tuning', 'workflow-task-slots'];

export async function run(args: readonly string[] = []): Promise<void> {
  const options = parseOptions(args, OPTIONS);
  const tuningName = options.get('tuning') ?? 'default';
  const tunings: Record<string, InjectorWorkersOptions['tuning'] | undefined> = {
    default: undefined, // the product's: OPENCLAW_*_SLOTS (docs/configuration.md)
    sdk: {}, // the Temporal SDK's own defaults
    scale: SCALE_TUNING,
  };
  if (!(tuningName in tunings)) throw new Error("--tuning takes default (the injector's configured slots), sdk (the Temporal SDK's defaults) or scale (the scale bench's)");
  const tuning = tunings[tuningName];
  // The product's OPENCLAW_WORKFLOW_TASK_SLOTS, for (b)'s workers; only with the product's tuning, which reads it.
  const workflowTaskSlots = options.get('workflow-task-slots');
  if (workflowTaskSlots !== undefined && (tuningName !== 'default' || !/^[1-9][0-9]{0,3}$/.test(workflowTaskSlots))) {
    throw new Error('--workflow-task-slots takes an integer from 1 to 9999, with --tuning default');
  }
  const agentCount = positiveInteger(options, 'agents', DEFAULT_AGENTS, MAX_BENCH_AGENTS);
  const seedAgents = Math.min(agentCount, positiveInteger(options, 'seed-agents', DEFAULT_SEED_AGENTS, MAX_BENCH_AGENTS));
  const concurrencies = options.get('concurrency')?.split(',').map(Number) ?? DEFAULT_CONCURRENCIES;
  if (concurrencies.some((c) => !Number.isInteger(c) || c < 1 || c > 1000)) throw new Error('--concurrency takes integers from 1 to 1000, comma-separated');
  const modes = (options.get('modes')?.split(',') ?? ['api', 'host']) as Mode[];
  if (modes.some((m) => m !== 'api' && m !== 'host')) throw new Error('--modes takes api, host or both, comma-separated');

  const runId = randomBytes(3).toString('hex');
  const group = `bench-${runId}`;
  const signingKey = generateSigningKeyPair(`bench-${runId}`);
  const dockerHost = process.env.DOCKER_HOST ?? 'unix:///var/run/docker.sock';
  const swarm = createSwarmManager({ dockerHost });
  const docker = dockerodeFor({ dockerHost });
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'openclaw-swarm-bench-data-'));
  const agentsDir = path.join(dataDir, 'agents');
  const { cleanups, done } = benchCleanup('swarm bench');
  cleanups.push(
    async () => rmSync(dataDir, { recursive: true, force: true }),
    async () => void (await swarm.down({ [BENCH_LABEL]: '1', [LABEL_GROUP]: group })),
  );
  try {
    console.log(`swarm bench: ${agentCount} real agents (group ${group}), worker tuning ${tuningName}${workflowTaskSlots ? `, ${workflowTaskSlots} workflow task slots` : ''}, load average before start ${loadAverage()}`);
    const image = await ensureAgentImage();
    const startedAt = performance.now();
    // Bind-mounted directories serve both modes: the archive API writes into them as into any container path.
    const agents = await swarm.up({ count: agentCount, group, prefix: group, image, trustedKeys: formatTrustedKeys(new Map([[signingKey.keyId, signingKey.publicKey]])), hostDataDir: agentsDir, extraLabels: { [BENCH_LABEL]: '1' } });
    await waitUntilReady(createDockerAdapter({ dockerHost }), agents.map((a) => a.containerId));
    console.log(`  ${agentCount} agents up in ${duration(performance.now() - startedAt)}`);
    const agentIds = agents.map((a) => a.agentId);

    const devServer = await startBenchDevServer('swarm');
    cleanups.push(() => devServer.stop());
    const connection = await Connection.connect({ address: devServer.server.address });
    cleanups.push(() => connection.close());
    const client = new Client({ connection });
    // Connected on the floor's first pass: the SDK's runtime must first be installed by (b)'s startWorkers.
    let workerConnection: NativeConnection | undefined;
    const logger = createLogger({ level: 'error', component: 'swarm-bench' });
    const pids = { dockerd: findProcess('dockerd'), containerd: findProcess('containerd'), devServer: devServer.server.pid };

    const timedPass = async (label: string, concurrency: number, inject: ReturnType<typeof rawInjector>): Promise<PassResult> => {
      const reloadId = `${group}-${label}`;
      const programFor = compiled(reloadId, signingKey);
      const steps = emptySteps();
      const meter = startCpuMeter(pids);
      const t0 = performance.now();
      await mapConcurrent(agentIds, concurrency, async (id) => inject(id, reloadId, await programFor(id), steps));
      const wallMs = performance.now() - t0;
      return { label, agents: agentIds.length, wallMs, steps, cpu: meter.stop() };
    };

    /** (b): workers and gateway of their own for the mode, POST /inject-swarm, poll until done, read every child. */
    const benchConfig = (mode: Mode, canary?: number) =>
      loadConfig({
        DOCKER_HOST: dockerHost,
        TEMPORAL_ADDRESS: devServer.server.address,
        OPENCLAW_TASK_QUEUE: `bench-${runId}-${mode}-${canary ?? 'default'}`,
        OPENCLAW_SIGNING_KEY: formatSigningKey(signingKey),
        OPENCLAW_API_TOKENS: TOKEN,
        OPENCLAW_DATA_DIR: dataDir,
        OPENCLAW_LOG_LEVEL: 'error',
        ...(workflowTaskSlots ? { OPENCLAW_WORKFLOW_TASK_SLOTS: workflowTaskSlots } : {}),
        ...(mode === 'host' ? { OPENCLAW_HOST_PATH_ROOT: agentsDir } : {}),
      });

    /**
     * (f): the Temporal floor under (b): as many bare children, as many at a time, with the same worker slots, each
     * running `localSteps` no-op local activities; no Docker, no gateway. What orchestration alone costs here.
     */
    const floorPass = async (maxParallel: number, localSteps: number): Promise<PassResult> => {
      if (!workerConnection) {
        const connected = await NativeConnection.connect({ address: devServer.server.address });
        cleanups.push(() => connected.close());
        workerConnection = connected;
      }
      let meter: ReturnType<typeof startCpuMeter> | undefined;
      let cpu: PassResult['cpu'] | undefined;
      const seconds = await runFloor(
        workerConnection,
        client,
        { agents: agentIds.length, maxParallel, localSteps, tuning: tuning ?? configuredWorkerTuning(benchConfig('api')) },
        { start: () => (meter = startCpuMeter(pids)), stop: () => (cpu = meter?.stop()) },
      );
      if (!cpu) throw new Error('the floor pass was not measured');
      return { label: `floor-${localSteps}`, agents: agentIds.length, wallMs: seconds * 1000, steps: emptySteps(), cpu };
    };

    const injectorPass = async (mode: Mode, maxParallel: number, canary?: number) => {
      const config = benchConfig(mode, canary);
      const workers = await startWorkers({ config, temporalAddress: devServer.server.address, logger, tuning });
      try {
        const gateway = await startGateway({ config, temporalAddress: devServer.server.address, logger, port: 0 });
        try {
          const meter = startCpuMeter(pids);
          const t0 = performance.now();
          const started = await gatewayJson<{ injectionId: string }>(`${gateway.url}/inject-swarm`, { method: 'POST', body: { group, instruction: benchSource(maxParallel, canary) } });
          if (started.status !== 202) throw new Error(`POST /inject-swarm answered ${started.status}: ${JSON.stringify(started.body)}`);
          const injectionId = started.body.injectionId;
          let status: InjectionStatus | null = null;
          while (!status?.done) {
            if (performance.now() - t0 > INJECTION_TIMEOUT_MS) throw new Error(`injection ${injectionId} not done in ${INJECTION_TIMEOUT_MS} ms`);
            await new Promise((resolve) => setTimeout(resolve, STATUS_POLL_MS));
            status = (await gatewayJson<InjectionStatus>(`${gateway.url}/injections/${injectionId}?limit=1`, { method: 'GET' })).body;
          }
          const wallMs = performance.now() - t0;
          const cpu = meter.stop();
          if (status.status !== 'succeeded') throw new Error(`injection ${injectionId} ended ${status.status}: ${JSON.stringify(status.counts)}`);
          const childIds = agentIds.map((id) => `${injectionId}/${id}`);
          const children = await mapConcurrent(childIds, 10, (id) => client.workflow.getHandle(id).result() as Promise<AgentInjectionResult>);
          const steps = emptySteps();
          for (const child of children) for (const t of child.timings) if (t.step in steps) steps[t.step as StepName].push(t.ms);
          const childrenSpanMs = Math.max(...children.map((c) => Date.parse(c.finishedAt))) - Math.min(...children.map((c) => Date.parse(c.startedAt)));
          const injector: PassResult = { label: `injector-${mode}-${canary ?? 'default'}`, agents: agentIds.length, wallMs, steps, cpu };
          return { injector, childrenSpanMs, latencies: await taskLatencies(client, childIds) };
        } finally {
          await gateway.stop();
        }
      } finally {
        await workers.stop();
      }
    };

    // What the raw v2 scripts know up front (the injector looks these up itself): container ids and host folders.
    const containerOf = new Map(agents.map((a) => [a.agentId, a.containerId]));
    const programsDirOf = new Map<string, string>();
    for (const a of agents) {
      const info = await docker.getContainer(a.containerId).inspect();
      const source = info.Mounts.find((m) => m.Destination === PROGRAMS_DIR)?.Source;
      if (source) programsDirOf.set(a.agentId, source);
    }

    const measureMode = async (mode: Mode): Promise<ModeResult> => {
      const raw = mode === 'api' ? rawV2Injector(docker, containerOf) : rawV2HostInjector(docker, containerOf, programsDirOf);
      const rawV1Script = mode === 'api' ? rawInjector(docker) : rawHostInjector(docker);
      const sweep: ModeResult['sweep'] = [];
      for (const concurrency of concurrencies) sweep.push({ concurrency, pass: await timedPass(`${mode}-raw${concurrency}`, concurrency, raw) });
      const best = sweep.reduce((a, b) => (rate(b.pass) > rate(a.pass) ? b : a));
      const { injector, childrenSpanMs, latencies } = await injectorPass(mode, best.concurrency);
      const { injector: injectorNoCanary } = await injectorPass(mode, best.concurrency, 0);
      const floor = await floorPass(best.concurrency, FORWARD_LOCAL_STEPS);
      const floorOne = await floorPass(best.concurrency, 1);
      // The raw limit again after (b): the machine is shared, so its drift over the run is shown, and the mean is used.
      const rawAfter = await timedPass(`${mode}-raw${best.concurrency}b`, best.concurrency, raw);
      const rawV1 = await timedPass(`${mode}-rawv1-${best.concurrency}`, best.concurrency, rawV1Script);
      return { mode, sweep, best, rawAfter, rawRate: (rate(best.pass) + rate(rawAfter)) / 2, rawV1, injector, injectorNoCanary, childrenSpanMs, latencies, floor, floorOne };
    };

    // The machine is shared: what dockerd and the dev server burn while this bench does nothing is the background.
    const idleMeter = startCpuMeter(pids);
    await new Promise((resolve) => setTimeout(resolve, IDLE_SAMPLE_MS));
    const idle = idleMeter.stop();
    console.log(`  background with this bench idle for ${IDLE_SAMPLE_MS / 1000} s: dockerd ${share(idle.processes.dockerd.coreShare)}, load average ${loadAverage()}`);

    // Every agent gets a program first, so each measured pass snapshots a real program (as a rollout usually does).
    await timedPass('warm', Math.max(...concurrencies), rawInjector(docker));
    const results: ModeResult[] = [];
    for (const mode of modes) results.push(await measureMode(mode));

    // (c) the seed's design, on a few agents; extrapolated to the reference fleet.
    const seed = seedInjector(docker);
    const seedReload = `${group}-seed`;
    const seedProgramFor = compiled(seedReload, signingKey);
    const seedStart = performance.now();
    for (let i = 0; i < seedAgents; i += SEED_BATCH) {
      await Promise.all(agentIds.slice(i, Math.min(seedAgents, i + SEED_BATCH)).map(async (id) => seed(id, seedReload, await seedProgramFor(id))));
    }
    const seedWallMs = performance.now() - seedStart;
    const seedBatchMs = seedWallMs / Math.ceil(seedAgents / SEED_BATCH);
    const seedAtReferenceMs = Math.ceil(REFERENCE_FLEET / SEED_BATCH) * seedBatchMs;

    console.log(`\nswarm bench, ${agentCount} agents; load average at the end ${loadAverage()}`);
    console.log('path                                                          agents  total      agents/s  dockerd         dev server      bench process   machine busy (all cores)');
    const row = (label: string, p: PassResult) =>
      console.log(
        `${label.padEnd(61)} ${String(p.agents).padStart(6)}  ${duration(p.wallMs).padEnd(9)}  ${rate(p).toFixed(2).padStart(8)}  ${share(p.cpu.processes.dockerd.coreShare).padEnd(15)} ${share(p.cpu.processes.devServer.coreShare).padEnd(15)} ${share(p.cpu.processes.self.coreShare).padEnd(15)} ${busy(p)}`,
      );
    for (const r of results) {
      for (const { concurrency, pass } of r.sweep) row(`(a) raw v2 (2 calls), ${MODE_LABEL[r.mode]}, conc. ${concurrency}${concurrency === r.best.concurrency ? ' (best)' : ''}`, pass);
      row(`(b) injector over HTTP, ${MODE_LABEL[r.mode]}, MAX_PARALLEL ${r.best.concurrency}`, r.injector);
      row(`(b) the same with CANARY: 0`, r.injectorNoCanary);
      row(`(a) raw v2, ${MODE_LABEL[r.mode]}, conc. ${r.best.concurrency}, again after (b)`, r.rawAfter);
      row(`(a') raw v1 (~10 calls), ${MODE_LABEL[r.mode]}, conc. ${r.best.concurrency}`, r.rawV1);
      row(`(f) Temporal floor: bare children, ${FORWARD_LOCAL_STEPS} no-op local steps, window ${r.best.concurrency}`, r.floor);
      row(`(f) the same, 1 no-op local step`, r.floorOne);
    }
    console.log(
      `${'(c) seed design: 5 at a time, 30 s trace window'.padEnd(61)} ${String(seedAgents).padStart(6)}  ${duration(seedWallMs).padEnd(9)}  ${((seedAgents * 1000) / seedWallMs).toFixed(3).padStart(8)}  (measured on ${seedAgents} agents)`,
    );
    const summaries = results.map((r) => {
      const ratio = rate(r.injector) / r.rawRate;
      const injectorAtReferenceMs = (REFERENCE_FLEET / rate(r.injector)) * 1000;
      return { r, ratio, injectorAtReferenceMs, speedup: seedAtReferenceMs / injectorAtReferenceMs };
    });
    console.log('');
    for (const { r, ratio, injectorAtReferenceMs, speedup } of summaries) {
      const target = r.mode === 'api' ? 0.85 : 0.5;
      console.log(`${MODE_LABEL[r.mode]}: (b)/(a) = ${(ratio * 100).toFixed(0)}% of the raw v2 limit (mean of the two raw passes at ${r.best.concurrency}: ${r.rawRate.toFixed(2)} agents/s) — target ≥ ${target * 100}%: ${ratio >= target ? 'met' : 'MISSED'}`);
      console.log(`  raw v1 (~10 calls) at the same concurrency: ${rate(r.rawV1).toFixed(2)} agents/s, ${((rate(r.rawV1) / r.rawRate) * 100).toFixed(0)}% of raw v2`);
      console.log(`  with CANARY: 0 (no canary wave; the raw script has none): ${((rate(r.injectorNoCanary) / r.rawRate) * 100).toFixed(0)}% of the raw limit`);
      console.log(
        `  at ${REFERENCE_FLEET} agents, EXTRAPOLATED from measured rates: (b) ${duration(injectorAtReferenceMs)} vs (c) ${duration(seedAtReferenceMs)} (${Math.ceil(REFERENCE_FLEET / SEED_BATCH)} batches × ${duration(seedBatchMs)}): ${speedup.toFixed(0)}× — target ≥ 100×: ${speedup >= 100 ? 'met' : 'MISSED'}`,
      );
      const ceiling = cpuCeiling(r);
      console.log(
        `  CPU per agent, ms: the whole machine ${fmt(machineMsPerAgent(r.best.pass))} in (a), ${fmt(machineMsPerAgent(r.injector))} in (b); ` +
          `orchestration (dev server + bench process) ${fmt(orchestrationMsPerAgent(r.best.pass))} in (a), ${fmt(orchestrationMsPerAgent(r.injector))} in (b), ` +
          `${fmt(orchestrationMsPerAgent(r.floor))} in the floor (${FORWARD_LOCAL_STEPS} steps), ${fmt(orchestrationMsPerAgent(r.floorOne))} (1 step)`,
      );
      console.log(
        ceiling.saturated
          ? `  (a) kept the machine ${busy(r.best.pass)} busy, so orchestration CPU comes out of Docker's: a fan-out as cheap as the floor could reach at most ` +
              `${pct(ceiling.withFloor)} of (a) (${pct(ceiling.withFloorOne)} with one step per child); (b) is ${pct(ratio / ceiling.withFloor)} of that ceiling`
          : `  (a) left the machine ${busy(r.best.pass)} busy (not saturated): the CPU ceiling does not apply`,
      );
      console.log(`  (b)'s children ran from first start to last finish in ${duration(r.childrenSpanMs)} of its ${duration(r.injector.wallMs)} (the rest: compile, resolve, the canary wave, the 250 ms status poll)`);
      console.log(`  per-step latency, ms     (b) injector p50 / p95     (a) raw at best concurrency p50 / p95`);
      for (const step of STEPS) {
        const b = r.injector.steps[step];
        const a = r.best.pass.steps[step];
        console.log(`    ${step.padEnd(22)} ${fmt(percentile(b, 50)).padStart(6)} / ${fmt(percentile(b, 95)).padEnd(17)} ${fmt(percentile(a, 50)).padStart(6)} / ${fmt(percentile(a, 95))}`);
      }
      console.log(
        `  task schedule-to-start in (b), ms: workflow tasks p50 ${fmt(percentile(r.latencies.workflowTaskMs, 50))} p95 ${fmt(percentile(r.latencies.workflowTaskMs, 95))} (${r.latencies.workflowTaskMs.length} tasks); ` +
          (r.latencies.activityTaskMs.length === 0
            ? 'no trace activity scheduled (every agent answered within the local trace window)'
            : `trace activities (agents slower than the local trace window) p50 ${fmt(percentile(r.latencies.activityTaskMs, 50))} p95 ${fmt(percentile(r.latencies.activityTaskMs, 95))} (${r.latencies.activityTaskMs.length})`),
      );
    }
    const passJson = (p: PassResult) => ({
      agentsPerSecond: Number(rate(p).toFixed(2)),
      seconds: Number((p.wallMs / 1000).toFixed(1)),
      cpuCoreShare: Object.fromEntries(Object.entries(p.cpu.processes).map(([k, v]) => [k, v.coreShare === null ? null : Number(v.coreShare.toFixed(2))])),
      machineBusyShare: p.cpu.machine.busyShare === null ? null : Number(p.cpu.machine.busyShare.toFixed(2)),
    });
    console.log(
      JSON.stringify({
        bench: 'swarm',
        agents: agentCount,
        tuning: tuningName,
        workflowTaskSlots: workflowTaskSlots ? Number(workflowTaskSlots) : null,
        loadAverage: loadAverage(),
        backgroundDockerdCoreShare: idle.processes.dockerd.coreShare === null ? null : Number(idle.processes.dockerd.coreShare.toFixed(2)),
        seed: { agents: seedAgents, seconds: Number((seedWallMs / 1000).toFixed(1)), extrapolatedSecondsAt1159: Math.round(seedAtReferenceMs / 1000) },
        modes: summaries.map(({ r, ratio, speedup }) => ({
          mode: r.mode,
          raw: r.sweep.map(({ concurrency, pass }) => ({ concurrency, ...passJson(pass) })),
          rawAfter: { concurrency: r.best.concurrency, ...passJson(r.rawAfter) },
          rawV1: { concurrency: r.best.concurrency, ...passJson(r.rawV1) },
          injector: { maxParallel: r.best.concurrency, ...passJson(r.injector) },
          injectorNoCanary: { maxParallel: r.best.concurrency, ...passJson(r.injectorNoCanary) },
          ratioNoCanaryToRaw: Number((rate(r.injectorNoCanary) / r.rawRate).toFixed(3)),
          ratioInjectorToRaw: Number(ratio.toFixed(3)),
          speedupOverSeedAt1159Extrapolated: Number(speedup.toFixed(1)),
          stepsP50: Object.fromEntries(STEPS.map((st) => [st, Math.round(percentile(r.injector.steps[st], 50))])),
          stepsP95: Object.fromEntries(STEPS.map((st) => [st, Math.round(percentile(r.injector.steps[st], 95))])),
          floor: { localSteps: FORWARD_LOCAL_STEPS, maxParallel: r.best.concurrency, ...passJson(r.floor) },
          floorOneStep: { localSteps: 1, maxParallel: r.best.concurrency, ...passJson(r.floorOne) },
          cpuMsPerAgent: {
            machineRaw: Math.round(machineMsPerAgent(r.best.pass)),
            machineInjector: Math.round(machineMsPerAgent(r.injector)),
            orchestrationRaw: Math.round(orchestrationMsPerAgent(r.best.pass)),
            orchestrationInjector: Math.round(orchestrationMsPerAgent(r.injector)),
            orchestrationFloor: Math.round(orchestrationMsPerAgent(r.floor)),
            orchestrationFloorOneStep: Math.round(orchestrationMsPerAgent(r.floorOne)),
          },
          cpuCeiling: (({ saturated, withFloor, withFloorOne }) => ({ saturated, withFloor: Number(withFloor.toFixed(3)), withFloorOneStep: Number(withFloorOne.toFixed(3)) }))(cpuCeiling(r)),
          workflowTaskScheduleToStartP50: Math.round(percentile(r.latencies.workflowTaskMs, 50)),
          workflowTaskScheduleToStartP95: Math.round(percentile(r.latencies.workflowTaskMs, 95)),
        })),
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
