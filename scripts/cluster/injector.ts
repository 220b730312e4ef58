// The injector's own processes on the cluster, each apart: one worker per Docker engine (the default engine is host
// `alpha`; a second engine of the cluster's own is host `beta`) and the gateway, all over mTLS to the frontend.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { dockerodeFor } from '../../src/docker/dockerode-adapter';
import type { ClusterCertificates, ClientName } from './certs';
import { managedProcess, ManagedProcess, startDetached, runningPid, waitUntil } from './processes';
import { ClusterPaths, ClusterSettings, FRONTEND_SERVER_NAME } from './settings';

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

export function injectorProcesses(settings: ClusterSettings, paths: ClusterPaths): { workers: Array<{ engine: Engine; proc: ManagedProcess }>; gateway: ManagedProcess } {
  return {
    workers: engines(settings, paths).map((engine) => ({ engine, proc: managedProcess(paths.pidsDir, paths.logsDir, `injector-worker-${engine.hostName}`) })),
    gateway: managedProcess(paths.pidsDir, paths.logsDir, 'injector-gateway'),
  };
}

export function gatewayUrl(settings: ClusterSettings): string {
  return `http://127.0.0.1:${settings.ports.gateway}`;
}

/** Starts whatever of the workers and the gateway is not running; resolves once the gateway's /health says ok. */
export async function ensureInjector(settings: ClusterSettings, paths: ClusterPaths, certs: ClusterCertificates): Promise<string[]> {
  const workerMain = path.join(settings.root, 'dist', 'src', 'worker', 'main.js');
  const gatewayMain = path.join(settings.root, 'dist', 'src', 'gateway', 'main.js');
  if (!existsSync(workerMain) || !existsSync(gatewayMain)) throw new Error('the injector is not built: run `npm run build` (npm run cluster does)');
  mkdirSync(paths.injectorDataDir, { recursive: true });
  const { workers, gateway } = injectorProcesses(settings, paths);
  const started: string[] = [];
  // Where each new worker's log starts: its "worker polling" line must come from this start, not an earlier one.
  const logStart = new Map<ManagedProcess, number>();
  for (const { engine, proc } of workers) {
    if (runningPid(proc) !== undefined) continue;
    logStart.set(proc, existsSync(proc.logFile) ? statSync(proc.logFile).size : 0);
    startDetached(proc, process.execPath, [workerMain], {
      cwd: settings.root,
      env: { ...injectorEnvironment(settings, paths, certs, 'injector-worker'), OPENCLAW_DOCKER_HOST_NAME: engine.hostName, DOCKER_HOST: engine.dockerHost },
    });
    started.push(proc.name);
  }
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
  for (const [proc, offset] of logStart) {
    await waitUntil(`${proc.name} polls`, async () => readFileSync(proc.logFile).subarray(offset).includes('"worker polling"'), { timeoutMs: INJECTOR_START_TIMEOUT_MS, proc });
  }
  await waitUntil('the gateway reports healthy', async () => (await fetch(`${gatewayUrl(settings)}/health`)).ok, { timeoutMs: INJECTOR_START_TIMEOUT_MS, proc: gateway });
  return started;
}
