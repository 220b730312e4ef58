// The injector's own processes on the cluster, each apart: one worker per Docker engine (the default engine is host
// `alpha`; a second engine of the cluster's own is host `beta`) and the gateway, all over mTLS to the frontend.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { dockerodeFor } from '../../src/docker/dockerode-adapter';
import type { ClusterCertificates, ClientName } from './certs';
import { managedProcess, ManagedProcess, startDetached, runningPid, waitUntil } from './processes';
import { run } from './processes';
import { checkBuildId, ClusterPaths, ClusterSettings, FRONTEND_SERVER_NAME, WORKER_DEPLOYMENT_NAME } from './settings';

export const ENGINE_START_TIMEOUT_MS = 60_000;
export const INJECTOR_START_TIMEOUT_MS = 120_000;
const SECRET_BYTES = 32;
/** The names the workers serve (OPENCLAW_DOCKER_HOST_NAME), in engine order. */
export const ENGINE_HOST_NAMES = ['alpha', 'beta'] as const;

/** A secret made once and kept (0600) under the state directory: survives down and up. */
export function secret(paths: ClusterPaths, name: string): string {
  const file = path.join(paths.secretsDir, name);
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  mkdirSync(paths.secretsDir, { recursive: true, mode: 0o700 });
  const value = randomBytes(SECRET_BYTES).toString('hex');
  writeFileSync(file, `${value}\n`, { mode: 0o600 });
  return value;
}

/** Key id of the cluster's Ed25519 signing key; its 32-byte seed is the `signing-key` secret (hex). */
export const CLUSTER_SIGNING_KEY_ID = 'cluster';

/** OPENCLAW_SIGNING_KEY (`kid:base64-seed`) for the workers, from the hex secret. */
export function clusterSigningKeyText(seedHex: string): string {
  return `${CLUSTER_SIGNING_KEY_ID}:${Buffer.from(seedHex, 'hex').toString('base64')}`;
}

export interface Engine {
  hostName: string;
  dockerHost: string;
  /** Only for the engine the cluster starts itself. */
  proc?: ManagedProcess;
}

export function engines(settings: ClusterSettings, paths: ClusterPaths): Engine[] {
  const list: Engine[] = [{ hostName: ENGINE_HOST_NAMES[0], dockerHost: settings.dockerHost }];
  if (settings.dockerEngines > 1) {
    const stateDir = path.join(paths.enginesDir, ENGINE_HOST_NAMES[1]);
    list.push({ hostName: ENGINE_HOST_NAMES[1], dockerHost: `unix://${path.join(stateDir, 'docker.sock')}`, proc: managedProcess(paths.pidsDir, paths.logsDir, `engine-${ENGINE_HOST_NAMES[1]}`) });
  }
  return list;
}

async function engineAnswers(dockerHost: string): Promise<boolean> {
  await dockerodeFor({ dockerHost }).ping();
  return true;
}

/** Starts the cluster's own dockerd: its own socket, data and exec roots and containerd namespace; no bridge, no iptables. */
export async function ensureEngine(engine: Engine, paths: ClusterPaths): Promise<boolean> {
  if (!engine.proc) return false;
  if (runningPid(engine.proc) !== undefined) return false;
  if (process.getuid?.() !== 0) throw new Error('a second Docker engine needs root: run as root, or set OPENCLAW_CLUSTER_DOCKER_ENGINES=1');
  const stateDir = path.join(paths.enginesDir, engine.hostName);
  mkdirSync(stateDir, { recursive: true });
  // `unshare --net` execs dockerd (no fork) in a network namespace of its own: with --bridge=none dockerd deletes any
  // interface named docker0 it can see at start-up, which on the host would be the default engine's bridge.
  startDetached(
    engine.proc,
    'unshare',
    [
      '--net',
      '--',
      'dockerd',
      `--host=${engine.dockerHost}`,
      `--data-root=${path.join(stateDir, 'data')}`,
      `--exec-root=${path.join(stateDir, 'exec')}`,
      `--pidfile=${path.join(stateDir, 'dockerd.pid')}`,
      `--containerd-namespace=openclaw-cluster-${engine.hostName}`,
      `--containerd-plugins-namespace=openclaw-cluster-${engine.hostName}-plugins`,
      '--bridge=none',
      '--iptables=false',
      '--ip6tables=false',
      '--ip-masq=false',
      '--ip-forward=false',
    ],
    { env: process.env, cwd: stateDir },
  );
  await waitUntil(`the Docker engine ${engine.hostName} answers`, () => engineAnswers(engine.dockerHost), { timeoutMs: ENGINE_START_TIMEOUT_MS, proc: engine.proc });
  return true;
}

/**
 * The build id the workers poll as: the one recorded under the state folder; on a first `up`, OPENCLAW_CLUSTER_BUILD_ID
 * or `<package version>-<git commit>` (`<package version>` outside a git checkout), then recorded.
 */
export async function recordedBuildId(settings: ClusterSettings, paths: ClusterPaths): Promise<string> {
  if (existsSync(paths.buildIdFile)) return checkBuildId(readFileSync(paths.buildIdFile, 'utf8').trim());
  let buildId = settings.buildId;
  if (buildId === undefined) {
    const { version } = JSON.parse(readFileSync(path.join(settings.root, 'package.json'), 'utf8')) as { version: string };
    const commit = await run('git', ['rev-parse', '--short=12', 'HEAD'], { cwd: settings.root, timeoutMs: 10_000 }).then((out) => out.trim(), () => '');
    buildId = commit ? `${version}-${commit}` : version;
  }
  writeBuildId(paths, checkBuildId(buildId));
  return buildId;
}

export function writeBuildId(paths: ClusterPaths, buildId: string): void {
  mkdirSync(path.dirname(paths.buildIdFile), { recursive: true });
  writeFileSync(paths.buildIdFile, `${buildId}\n`);
}

/** The injector's settings (docs/configuration.md) for one of its processes on this cluster. */
function injectorEnvironment(settings: ClusterSettings, paths: ClusterPaths, certs: ClusterCertificates, client: ClientName): NodeJS.ProcessEnv {
  const { cert, key } = certs.clients[client];
  return {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    TEMPORAL_ADDRESS: `127.0.0.1:${settings.ports.frontendGrpc}`,
    TEMPORAL_NAMESPACE: settings.namespace,
    TEMPORAL_TLS_CA: certs.ca,
    TEMPORAL_TLS_CERT: cert,
    TEMPORAL_TLS_KEY: key,
    TEMPORAL_TLS_SERVER_NAME: FRONTEND_SERVER_NAME,
    OPENCLAW_TASK_QUEUE: settings.taskQueue,
    OPENCLAW_SIGNING_KEY: clusterSigningKeyText(secret(paths, 'signing-key')),
    OPENCLAW_DATA_DIR: paths.injectorDataDir,
    OPENCLAW_LOG_LEVEL: 'info',
  };
}

/** The workers of the recorded build; `next`: those an upgrade starts beside them (renamed to these once it is done). */
export function workerProcesses(settings: ClusterSettings, paths: ClusterPaths, which: 'current' | 'next' = 'current'): Array<{ engine: Engine; proc: ManagedProcess }> {
  return engines(settings, paths).map((engine) => ({ engine, proc: managedProcess(paths.pidsDir, paths.logsDir, `injector-worker-${engine.hostName}${which === 'next' ? '-next' : ''}`) }));
}

export function injectorProcesses(settings: ClusterSettings, paths: ClusterPaths): { workers: Array<{ engine: Engine; proc: ManagedProcess }>; gateway: ManagedProcess } {
  return {
    workers: workerProcesses(settings, paths),
    gateway: managedProcess(paths.pidsDir, paths.logsDir, 'injector-gateway'),
  };
}

export function gatewayUrl(settings: ClusterSettings): string {
  return `http://127.0.0.1:${settings.ports.gateway}`;
}

function injectorMain(settings: ClusterSettings, name: 'worker' | 'gateway'): string {
  const main = path.join(settings.root, 'dist', 'src', name, 'main.js');
  if (!existsSync(main)) throw new Error('the injector is not built: run `npm run build` (npm run cluster does)');
  return main;
}

/**
 * Starts whichever of these workers is not running, as version `buildId` of the Worker Deployment; resolves once
 * each one started logs that it polls.
 */
export async function ensureWorkers(settings: ClusterSettings, paths: ClusterPaths, certs: ClusterCertificates, buildId: string, workers: Array<{ engine: Engine; proc: ManagedProcess }>): Promise<string[]> {
  const workerMain = injectorMain(settings, 'worker');
  mkdirSync(paths.injectorDataDir, { recursive: true });
  const started: string[] = [];
  // Where each new worker's log starts: its "worker polling" line must come from this start, not an earlier one.
  const logStart = new Map<ManagedProcess, number>();
  for (const { engine, proc } of workers) {
    if (runningPid(proc) !== undefined) continue;
    logStart.set(proc, existsSync(proc.logFile) ? statSync(proc.logFile).size : 0);
    startDetached(proc, process.execPath, [workerMain], {
      cwd: settings.root,
      env: {
        ...injectorEnvironment(settings, paths, certs, 'injector-worker'),
        OPENCLAW_DOCKER_HOST_NAME: engine.hostName,
        DOCKER_HOST: engine.dockerHost,
        OPENCLAW_WORKER_DEPLOYMENT: WORKER_DEPLOYMENT_NAME,
        OPENCLAW_WORKER_BUILD_ID: buildId,
      },
    });
    started.push(proc.name);
  }
  for (const [proc, offset] of logStart) {
    await waitUntil(`${proc.name} polls`, async () => readFileSync(proc.logFile).subarray(offset).includes('"worker polling"'), { timeoutMs: INJECTOR_START_TIMEOUT_MS, proc });
  }
  return started;
}

/** Starts whatever of the workers and the gateway is not running; resolves once the gateway's /health says ok. */
export async function ensureInjector(settings: ClusterSettings, paths: ClusterPaths, certs: ClusterCertificates, buildId: string): Promise<string[]> {
  const gatewayMain = injectorMain(settings, 'gateway');
  const { workers, gateway } = injectorProcesses(settings, paths);
  const started = await ensureWorkers(settings, paths, certs, buildId, workers);
  if (runningPid(gateway) === undefined) {
    startDetached(gateway, process.execPath, [gatewayMain], {
      cwd: settings.root,
      env: {
        ...injectorEnvironment(settings, paths, certs, 'injector-gateway'),
        OPENCLAW_API_TOKENS: secret(paths, 'api-token'),
        OPENCLAW_GATEWAY_HOST: '127.0.0.1',
        OPENCLAW_GATEWAY_PORT: String(settings.ports.gateway),
        OPENCLAW_DOCKER_HOST_NAME: ENGINE_HOST_NAMES[0],
        OPENCLAW_DOCKER_HOSTS: workers.map((w) => w.engine.hostName).join(','),
        DOCKER_HOST: settings.dockerHost,
      },
    });
    started.push(gateway.name);
  }
  await waitUntil('the gateway reports healthy', async () => (await fetch(`${gatewayUrl(settings)}/health`)).ok, { timeoutMs: INJECTOR_START_TIMEOUT_MS, proc: gateway });
  return started;
}
