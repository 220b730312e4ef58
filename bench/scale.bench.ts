// Orchestration at scale: 1,159 and 10,000 simulated agents (the in-process fleet driver, zero-latency agents) through
// the real workflows on a dev server of the bench's own (or, with `--server env`, the Temporal server the environment
// names, e.g. `npm run cluster`'s): agents/s, events per run, the worker's peak RSS, server CPU.
import { randomBytes, randomUUID } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { Config, loadConfig } from '../src/config';
import { formatSigningKey, generateSigningKeyPair } from '../src/signing/keys';
import { loadSigningKeys, programSealing } from '../src/shared/signing-key';
import type { SwarmInjectionInput } from '../src/shared/injection-types';
import { createLogger } from '../src/shared/logger';
import { INJECTION_ID } from '../src/shared/search-attributes';
import { mainTaskQueue } from '../src/shared/task-queues';
import { installSdkRuntime } from '../src/temporal/sdk-logging';
import { temporalTlsOptions } from '../src/temporal/tls';
import { createInjectorWorkers, DEFAULT_WORKFLOWS_PATH } from '../src/worker/worker';
import { NativeConnection } from '@temporalio/worker';
import { runFloor } from './floor/floor-run';
import type { swarmInjectionWorkflow } from '../workflows';
import { createFleetDriver } from './fleet/fleet-driver';
import { findProcesses, loadAverage, parseOptions, processCpuMs, startBenchDevServer, startCpuMeter, startRssSampler } from './measure';

export const DEFAULT_SCALES = [1_159, 10_000];
export const MAX_SCALE_AGENTS = 20_000;
/** Temporal warns past this many events in one run; the workflow continues-as-new well before it. */
export const HISTORY_WARNING_EVENTS = 10_240;
export const SCALE_MAX_PARALLEL = 500;
/** The worker settings the scale runs use (the scale test's): more slots and a cache large enough for the window. */
export const SCALE_TUNING = { maxConcurrentActivityTaskExecutions: 400, maxConcurrentWorkflowTaskExecutions: 100, maxCachedWorkflows: 2_000 };
const SCALE_TIMEOUT_MS = 30 * 60_000;

interface ScaleResult {
  agents: number;
  seconds: number;
  agentsPerSecond: number;
  status: string;
  runs: number;
  historyEventsPerRun: number[];
  peakRssMiB: number;
  /** The Temporal server's processes (the dev server, or the cluster's services and PostgreSQL), in cores. */
  serverCore: number | null;
  benchProcessCore: number | null;
  /** The bare fan-out's rate in the same run on the same server (bench/floor/), and the injector's share of it. */
  floorSeconds: number;
  floorAgentsPerSecond: number;
  /** The server's CPU per agent (ms) in the floor and in the injector's run: what the injector costs the server beyond Temporal's own. */
  floorServerMsPerAgent: number | null;
  serverMsPerAgent: number | null;
  ratioToFloor: number;
  /** With `--floor both`: the floor whose children also carry the injector's search attributes and status upsert. */
  visibilityFloor: { seconds: number; agentsPerSecond: number; serverMsPerAgent: number | null; ratio: number } | null;
  loadAverage: string;
}

/** The options `npm run bench -- scale` takes. */
export const OPTIONS: readonly string[] = ['agents', 'server', 'floor'];
/**
 * Command names of a Temporal cluster's processes on this machine, whose CPU `--server env` reports: the server binary
 * as `npm run cluster` builds it (`server`, one process per service) and its PostgreSQL.
 */
export const CLUSTER_PROCESS_NAMES = ['server', 'postgres'];

/** Where the bench's Temporal server is: its own dev server, or the one TEMPORAL_ADDRESS and TEMPORAL_TLS_* name. */
interface ScaleServer {
  description: string;
  address: string;
  namespace: string;
  tls: ReturnType<typeof temporalTlsOptions>;
  /** The processes whose CPU is the server's, measured from the start of each injection. */
  pids(): number[];
  stop(): Promise<void>;
}

async function openServer(kind: 'dev' | 'env', env: Config): Promise<ScaleServer> {
  if (kind === 'dev') {
    const devServer = await startBenchDevServer('scale');
    return { description: 'dev server', address: devServer.server.address, namespace: 'default', tls: undefined, pids: () => [devServer.server.pid], stop: () => devServer.stop() };
  }
  const address = env.temporalAddress!;
  return {
    description: `${address} (namespace ${env.temporalNamespace}; CPU of its local processes named ${CLUSTER_PROCESS_NAMES.join(' and ')})`,
    address,
    namespace: env.temporalNamespace,
    tls: temporalTlsOptions(env.temporalTls),
    pids: () => CLUSTER_PROCESS_NAMES.flatMap((name) => findProcesses(name)),
    stop: async () => {},
  };
}

export async function run(args: readonly string[] = []): Promise<void> {
  const options = parseOptions(args, OPTIONS);
  const scales = options.get('agents')?.split(',').map(Number) ?? DEFAULT_SCALES;
  if (scales.some((n) => !Number.isInteger(n) || n < 1 || n > MAX_SCALE_AGENTS)) throw new Error(`--agents takes integers from 1 to ${MAX_SCALE_AGENTS}, comma-separated`);
  // Every option is checked before the SDK's runtime starts: an error must end the process, not leave it waiting.
  const floorKind = options.get('floor') ?? 'plain';
  if (floorKind !== 'plain' && floorKind !== 'both') throw new Error(`--floor takes plain (the bare fan-out, the default) or both (also the fan-out with the injector's search attributes), not ${JSON.stringify(floorKind)}`);
  const serverKind = options.get('server') ?? 'dev';
  if (serverKind !== 'dev' && serverKind !== 'env') throw new Error(`--server takes dev (a dev server of the bench's own, the default) or env (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_TLS_*), not ${JSON.stringify(serverKind)}`);
  const env = loadConfig();
  if (serverKind === 'env' && env.temporalAddress === undefined) throw new Error('--server env needs TEMPORAL_ADDRESS (and TEMPORAL_TLS_* for a cluster with mTLS, as `npm run cluster` runs it)');
  console.log(`scale bench: ${scales.join(', ')} simulated agents, load average before start ${loadAverage()}`);
  installSdkRuntime({ logger: createLogger({ level: 'warn', component: 'temporal-sdk' }), level: 'warn' });
  const server = await openServer(serverKind, env);
  console.log(`Temporal server: ${server.description}`);
  const results: ScaleResult[] = [];
  try {
    const connection = await NativeConnection.connect({ address: server.address, tls: server.tls });
    const clientConnection = await Connection.connect({ address: server.address, tls: server.tls });
    try {
      const client = new Client({ connection: clientConnection, namespace: server.namespace });
      for (const agents of scales) {
        const floor = await measureFloor(connection, client, server, agents, false);
        const visibility = floorKind === 'both' ? await measureFloor(connection, client, server, agents, true) : null;
        const r = await runScale(agents, connection, client, server);
        results.push({
          ...r,
          floorSeconds: floor.seconds,
          floorAgentsPerSecond: agents / floor.seconds,
          floorServerMsPerAgent: floor.serverMsPerAgent,
          ratioToFloor: floor.seconds / r.seconds,
          visibilityFloor: visibility && { seconds: visibility.seconds, agentsPerSecond: agents / visibility.seconds, serverMsPerAgent: visibility.serverMsPerAgent, ratio: visibility.seconds / r.seconds },
          loadAverage: loadAverage(),
        });
      }
    } finally {
      await clientConnection.close();
      await connection.close();
    }
  } finally {
    await server.stop();
  }
  console.log(`\nscale bench (fleet driver, MAX_PARALLEL ${SCALE_MAX_PARALLEL}, worker tuning ${JSON.stringify(SCALE_TUNING)}); load average at the end ${loadAverage()}`);
  console.log('agents   status      total     agents/s  runs  max events/run  peak RSS   server CPU       bench process CPU');
  for (const r of results) {
    console.log(
      `${String(r.agents).padStart(6)}   ${r.status.padEnd(10)}  ${`${r.seconds.toFixed(1)} s`.padEnd(8)}  ${r.agentsPerSecond.toFixed(1).padStart(8)}  ${String(r.runs).padStart(4)}  ${String(Math.max(...r.historyEventsPerRun)).padStart(14)}  ${`${r.peakRssMiB} MiB`.padEnd(9)}  ${r.serverCore === null ? 'n/a' : `${(r.serverCore * 100).toFixed(0)}% of a core`.padEnd(15)}  ${r.benchProcessCore === null ? 'n/a' : `${(r.benchProcessCore * 100).toFixed(0)}% of a core`}`,
    );
    console.log(`         Temporal floor (bare fan-out, one no-op local activity per child, same tuning and window): ${r.floorSeconds.toFixed(1)} s, ${r.floorAgentsPerSecond.toFixed(1)} agents/s; injector / floor ${r.ratioToFloor.toFixed(2)}; load average ${r.loadAverage}`);
    const perAgent = (ms: number | null): string => (ms === null ? 'n/a' : `${ms.toFixed(1)} ms`);
    console.log(`         server CPU per agent: floor ${perAgent(r.floorServerMsPerAgent)}, injector ${perAgent(r.serverMsPerAgent)}`);
    const v = r.visibilityFloor;
    if (v) console.log(`         floor with the injector's search attributes (3 at each child's start, 1 status upsert): ${v.seconds.toFixed(1)} s, ${v.agentsPerSecond.toFixed(1)} agents/s, server CPU ${perAgent(v.serverMsPerAgent)} per agent; injector / this floor ${v.ratio.toFixed(2)}`);
    console.log(`         events per run: ${r.historyEventsPerRun.join(', ')} — ${Math.max(...r.historyEventsPerRun) < HISTORY_WARNING_EVENTS ? 'every run' : 'NOT every run'} under ${HISTORY_WARNING_EVENTS}`);
  }
  for (const r of results) console.log(JSON.stringify({ bench: 'scale', ...r }));
}

/**
 * The server's CPU over one interval (start/stop), summed over its processes; null when none of them is visible.
 * Processes that appear meanwhile (a PostgreSQL backend per new connection) count from their start; those that end
 * meanwhile count through their parent's reaped-children time (processCpuMs).
 */
function serverCpu(server: ScaleServer): { start(): void; stop(): void; cpuMs(): number | null; coreShare(): number | null } {
  let before = new Map<number, number>();
  let started = 0;
  let result: { cpuMs: number; wallMs: number } | null = null;
  return {
    start() {
      before = new Map();
      for (const pid of server.pids()) {
        const ms = processCpuMs(pid);
        if (ms !== null) before.set(pid, ms);
      }
      started = performance.now();
    },
    stop() {
      const wallMs = performance.now() - started;
      const pids = server.pids();
      if (before.size === 0 && pids.length === 0) return;
      const cpuMs = pids.reduce((sum, pid) => sum + Math.max(0, (processCpuMs(pid) ?? before.get(pid) ?? 0) - (before.get(pid) ?? 0)), 0);
      result = { cpuMs, wallMs };
    },
    cpuMs: () => result?.cpuMs ?? null,
    coreShare: () => (result === null ? null : result.cpuMs / result.wallMs),
  };
}

/** One floor fan-out of `agents` children on the scale window and tuning: its seconds and the server's CPU per agent. */
async function measureFloor(connection: NativeConnection, client: Client, server: ScaleServer, agents: number, searchAttributes: boolean): Promise<{ seconds: number; serverMsPerAgent: number | null }> {
  const meter = serverCpu(server);
  const seconds = await runFloor(connection, client, { agents, maxParallel: SCALE_MAX_PARALLEL, localSteps: 1, tuning: SCALE_TUNING, namespace: server.namespace, searchAttributes }, meter);
  const cpuMs = meter.cpuMs();
  return { seconds, serverMsPerAgent: cpuMs === null ? null : cpuMs / agents };
}

async function runScale(
  agents: number,
  connection: NativeConnection,
  client: Client,
  server: ScaleServer,
): Promise<Omit<ScaleResult, 'floorSeconds' | 'floorAgentsPerSecond' | 'floorServerMsPerAgent' | 'ratioToFloor' | 'visibilityFloor' | 'loadAverage'>> {
  const signingKey = generateSigningKeyPair(`scale-${randomBytes(4).toString('hex')}`);
  const group = `scale${agents}`;
  const fleet = createFleetDriver({ count: agents, group, signingKey });
  const config = loadConfig({ OPENCLAW_TASK_QUEUE: `scale-bench-${randomBytes(4).toString('hex')}`, OPENCLAW_SIGNING_KEY: formatSigningKey(signingKey), TEMPORAL_NAMESPACE: server.namespace });
  const logger = createLogger({ level: 'error', component: 'scale-bench' });
  const workers = await createInjectorWorkers({
    connection,
    namespace: config.temporalNamespace,
    taskQueue: config.taskQueue,
    dockerHostName: config.dockerHostName,
    workflows: { workflowsPath: DEFAULT_WORKFLOWS_PATH },
    injectorDeps: { logger },
    dockerDeps: {
      hostName: config.dockerHostName,
      logger,
      docker: fleet.docker,
      channel: fleet.channel,
      sealing: programSealing(loadSigningKeys(config), config),
    },
    tuning: SCALE_TUNING,
  });
  const running = workers.run();
  const rss = startRssSampler();
  try {
    const injectionId = `scale-${randomUUID()}`;
    const input: SwarmInjectionInput = {
      injectionId,
      source: `OPTIMIZE_THROUGHPUT {\n  TARGET: ${group}\n  MAX_PARALLEL: ${SCALE_MAX_PARALLEL}\n  CANARY: 1%\n  DEADLINE: 2h\n}`,
      context: {},
      targets: null,
      priority: 'medium',
      requestedBy: 'scale-bench',
      taskQueue: config.taskQueue,
      dockerHosts: [config.dockerHostName],
    };
    const serverMeter = serverCpu(server);
    const meter = startCpuMeter({});
    serverMeter.start();
    const started = performance.now();
    const handle = await client.workflow.start<typeof swarmInjectionWorkflow>('swarmInjectionWorkflow', {
      workflowId: injectionId,
      taskQueue: mainTaskQueue(config.taskQueue),
      args: [input],
      typedSearchAttributes: [{ key: INJECTION_ID, value: injectionId }],
      workflowExecutionTimeout: SCALE_TIMEOUT_MS,
    });
    const result = await handle.result();
    const seconds = (performance.now() - started) / 1000;
    const cpu = meter.stop();
    serverMeter.stop();
    const serverCpuMs = serverMeter.cpuMs();
    if (result.counts.injected !== agents) throw new Error(`scale ${agents}: ${JSON.stringify(result.counts)}`);
    const twice = fleet.agentIds().filter((id) => fleet.reloadsActedOn(id) !== 1);
    if (twice.length > 0) throw new Error(`scale ${agents}: ${twice.length} agents acted other than once`);
    return {
      agents,
      seconds,
      agentsPerSecond: agents / seconds,
      status: result.status,
      runs: result.runs,
      historyEventsPerRun: result.historyEventsPerRun,
      peakRssMiB: Math.round(rss.stop() / (1024 * 1024)),
      serverCore: serverMeter.coreShare(),
      serverMsPerAgent: serverCpuMs === null ? null : serverCpuMs / agents,
      benchProcessCore: cpu.processes.self.coreShare,
    };
  } finally {
    rss.stop();
    workers.shutdown();
    await running;
  }
}

if (require.main === module) {
  run(process.argv.slice(2)).catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
