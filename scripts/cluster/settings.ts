// Where the local Temporal cluster keeps its state and binaries, and which ports it listens on: read from the
// environment once (every port configurable), with defaults away from the dev server's 7233/8233.
import { existsSync } from 'node:fs';
import path from 'node:path';

export const TEMPORAL_SERVER_VERSION = '1.32.2';
export const TEMPORAL_UI_SERVER_VERSION = '2.58.1';
/** The server needs Go ≥ 1.26.10; this toolchain comes from the Go module proxy. */
export const GO_TOOLCHAIN = 'go1.27.3';
export const HISTORY_SHARDS = 4;
export const NAMESPACE_RETENTION = '72h';
/** Names the certificates carry and the clients verify (the cluster binds 127.0.0.1; the names are not resolved). */
export const FRONTEND_SERVER_NAME = 'frontend.temporal.openclaw';
export const INTERNODE_SERVER_NAME = 'internode.temporal.openclaw';
export const DEFAULT_PORT_BASE = 17_000;
export const MAX_DOCKER_ENGINES = 2;
/** The Worker Deployment the injector's workers poll as (Worker Versioning); each build of them is one version. */
export const WORKER_DEPLOYMENT_NAME = 'openclaw-injector';
const BUILD_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/** Each port is base + offset unless its own variable says otherwise; the offsets mirror Temporal's own 7233… layout. */
const PORT_OFFSETS = {
  postgres: 432,
  frontendGrpc: 233,
  frontendHttp: 243,
  history: 234,
  matching: 235,
  worker: 239,
  frontendMembership: 933,
  historyMembership: 934,
  matchingMembership: 935,
  workerMembership: 939,
  ui: 1233,
  gateway: 5,
} as const;
export type PortName = keyof typeof PORT_OFFSETS;
const MEMBERSHIP_PORTS: PortName[] = ['frontendMembership', 'historyMembership', 'matchingMembership', 'workerMembership'];
/** cluster_membership.rpc_port is a smallint in Temporal's SQL schema: a larger port fails the service at start-up. */
export const MAX_MEMBERSHIP_PORT = 32_767;

/** OPENCLAW_CLUSTER_<NAME>_PORT for each port: frontendGrpc → OPENCLAW_CLUSTER_FRONTEND_GRPC_PORT. */
export function portVariable(name: PortName): string {
  return `OPENCLAW_CLUSTER_${name.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()}_PORT`;
}

export interface ClusterSettings {
  root: string;
  /** State that survives down and up: PostgreSQL's data, certificates, secrets, logs, pid files. */
  stateDir: string;
  /** Binaries, keyed by version: <toolsDir>/temporal-server-<v>/bin, <toolsDir>/temporal-ui-server-<v>/bin. */
  toolsDir: string;
  ports: Record<PortName, number>;
  /** 1: the default Docker engine only; 2: also a second engine of the cluster's own (needs root). */
  dockerEngines: number;
  /** The default engine the first worker and the gateway talk to. */
  dockerHost: string;
  uiWriteActions: boolean;
  taskQueue: string;
  namespace: string;
  /** OPENCLAW_CLUSTER_BUILD_ID: the build id a first `up` gives the workers (later ones keep the recorded one). */
  buildId: string | undefined;
}

export class ClusterSettingsError extends Error {
  readonly code = 'CLUSTER_SETTINGS';
  constructor(message: string) {
    super(message);
    this.name = 'ClusterSettingsError';
  }
}

/** The folder holding package.json, walking up from here (this file runs from scripts/ and from dist/scripts/). */
export function projectRoot(from = __dirname): string {
  let dir = from;
  while (!existsSync(path.join(dir, 'package.json'))) {
    const parent = path.dirname(dir);
    if (parent === dir) throw new ClusterSettingsError(`no package.json above ${from}`);
    dir = parent;
  }
  return dir;
}

function wholeNumber(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name]?.trim();
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!/^\d+$/.test(raw) || n < min || n > max) throw new ClusterSettingsError(`${name}=${JSON.stringify(raw)}: expected a whole number from ${min} to ${max}`);
  return n;
}

export function loadClusterSettings(env: NodeJS.ProcessEnv = process.env): ClusterSettings {
  const root = projectRoot();
  const base = wholeNumber(env, 'OPENCLAW_CLUSTER_PORT_BASE', DEFAULT_PORT_BASE, 1024, 65535 - 1300);
  const ports = Object.fromEntries(
    (Object.keys(PORT_OFFSETS) as PortName[]).map((name) => [name, wholeNumber(env, portVariable(name), base + PORT_OFFSETS[name], 1, 65535)]),
  ) as Record<PortName, number>;
  for (const name of MEMBERSHIP_PORTS) {
    if (ports[name] > MAX_MEMBERSHIP_PORT) {
      throw new ClusterSettingsError(`${portVariable(name)}=${ports[name]}: Temporal stores membership ports as a SQL smallint, so at most ${MAX_MEMBERSHIP_PORT} (lower OPENCLAW_CLUSTER_PORT_BASE)`);
    }
  }
  const taken = new Map<number, string>();
  for (const [name, port] of Object.entries(ports)) {
    const other = taken.get(port);
    if (other !== undefined) throw new ClusterSettingsError(`${portVariable(name as PortName)} and ${portVariable(other as PortName)} are both ${port}`);
    taken.set(port, name);
  }
  return {
    root,
    stateDir: path.resolve(root, env.OPENCLAW_CLUSTER_DIR?.trim() || path.join('.data', 'cluster')),
    toolsDir: path.resolve(root, env.OPENCLAW_CLUSTER_TOOLS_DIR?.trim() || '.tools'),
    ports,
    dockerEngines: wholeNumber(env, 'OPENCLAW_CLUSTER_DOCKER_ENGINES', MAX_DOCKER_ENGINES, 1, MAX_DOCKER_ENGINES),
    dockerHost: env.DOCKER_HOST?.trim() || 'unix:///var/run/docker.sock',
    uiWriteActions: /^(1|true|yes)$/i.test(env.OPENCLAW_CLUSTER_UI_WRITE_ACTIONS?.trim() ?? ''),
    taskQueue: env.OPENCLAW_TASK_QUEUE?.trim() || 'openclaw-injector',
    namespace: env.TEMPORAL_NAMESPACE?.trim() || 'default',
    buildId: buildIdSetting(env.OPENCLAW_CLUSTER_BUILD_ID?.trim()),
  };
}

function buildIdSetting(raw: string | undefined): string | undefined {
  if (raw === undefined || raw === '') return undefined;
  if (!BUILD_ID_PATTERN.test(raw)) throw new ClusterSettingsError(`OPENCLAW_CLUSTER_BUILD_ID=${JSON.stringify(raw)}: expected letters, digits, . _ - (at most 128)`);
  return raw;
}

/** A build id as the workers take it (OPENCLAW_WORKER_BUILD_ID): checked before any process starts. */
export function checkBuildId(buildId: string): string {
  if (!BUILD_ID_PATTERN.test(buildId)) throw new ClusterSettingsError(`build id ${JSON.stringify(buildId)}: expected letters, digits, . _ - (at most 128)`);
  return buildId;
}

/** Everything `up` writes, by role, under the state directory. */
export function clusterPaths(settings: ClusterSettings) {
  const { stateDir, toolsDir } = settings;
  const serverBin = path.join(toolsDir, `temporal-server-${TEMPORAL_SERVER_VERSION}`, 'bin');
  return {
    serverBinary: path.join(serverBin, 'server'),
    schemaTool: path.join(serverBin, 'sql'),
    uiServerBinary: path.join(toolsDir, `temporal-ui-server-${TEMPORAL_UI_SERVER_VERSION}`, 'bin', 'ui-server'),
    uiBuildDir: path.join(toolsDir, 'build', `ui-server-${TEMPORAL_UI_SERVER_VERSION}`),
    postgresDir: path.join(stateDir, 'postgres'),
    postgresData: path.join(stateDir, 'postgres', 'data'),
    postgresSocketDir: path.join(stateDir, 'postgres', 'run'),
    certsDir: path.join(stateDir, 'certs'),
    secretsDir: path.join(stateDir, 'secrets'),
    logsDir: path.join(stateDir, 'logs'),
    pidsDir: path.join(stateDir, 'pids'),
    uiConfigDir: path.join(stateDir, 'ui', 'config'),
    enginesDir: path.join(stateDir, 'engines'),
    injectorDataDir: path.join(stateDir, 'injector'),
    /** The build id the running workers poll as: written by the first `up`, moved on by `upgrade`. */
    buildIdFile: path.join(stateDir, 'injector', 'build-id'),
    dynamicConfig: path.join(settings.root, 'scripts', 'cluster', 'dynamicconfig.yaml'),
  };
}
export type ClusterPaths = ReturnType<typeof clusterPaths>;
