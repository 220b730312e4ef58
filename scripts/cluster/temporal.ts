// The Temporal side of the cluster: pinned binaries built once into .tools, the schemas made and migrated by the
// schema tool, the four services' settings (the server's own embedded config template, read from the environment,
// as the temporalio/server image and the compose file use it), and the namespace with the injector's search attributes.
import { copyFileSync, existsSync, mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { CUSTOM_SEARCH_ATTRIBUTES } from '../../src/shared/search-attributes';
import type { ClusterCertificates, CertificatePair } from './certs';
import { POSTGRES_USER } from './postgres';
import { run, waitUntil } from './processes';
import {
  ClusterPaths,
  ClusterSettings,
  FRONTEND_SERVER_NAME,
  GO_TOOLCHAIN,
  HISTORY_SHARDS,
  INTERNODE_SERVER_NAME,
  NAMESPACE_RETENTION,
  TEMPORAL_SERVER_VERSION,
} from './settings';

export const TEMPORAL_SERVICES = ['frontend', 'history', 'matching', 'worker'] as const;
export type TemporalService = (typeof TEMPORAL_SERVICES)[number];
/** A cold `go install` of the server takes about 5 minutes on 2 cores; far longer on a busy machine. */
const GO_BUILD_TIMEOUT_MS = 40 * 60_000;
const SCHEMA_TOOL_TIMEOUT_MS = 120_000;
const CLI_TIMEOUT_MS = 30_000;
const NAMESPACE_VISIBLE_TIMEOUT_MS = 60_000;
/** The databases the schema tool makes, with the embedded schema each one follows. */
export const TEMPORAL_DATABASES = [
  { database: 'temporal', schemaName: 'postgresql/v12/temporal' },
  { database: 'temporal_visibility', schemaName: 'postgresql/v12/visibility' },
] as const;

function goEnv(gobin?: string): NodeJS.ProcessEnv {
  return { ...process.env, GOTOOLCHAIN: GO_TOOLCHAIN, ...(gobin ? { GOBIN: gobin } : {}) };
}

/** Builds what is missing: the server and the schema tool (go install), the UI server (go build of the pinned module). */
export async function ensureTemporalBinaries(settings: ClusterSettings, paths: ClusterPaths, log: (line: string) => void): Promise<string[]> {
  const built: string[] = [];
  if (!existsSync(paths.serverBinary) || !existsSync(paths.schemaTool)) {
    // Built beside, then moved: an interrupted build never leaves a binary that looks cached.
    const partial = `${path.dirname(paths.serverBinary)}.partial`;
    rmSync(partial, { recursive: true, force: true });
    mkdirSync(partial, { recursive: true });
    log(`building Temporal server ${TEMPORAL_SERVER_VERSION} and its schema tool with ${GO_TOOLCHAIN} (several minutes the first time)`);
    await run('go', ['install', `go.temporal.io/server/cmd/server@v${TEMPORAL_SERVER_VERSION}`, `go.temporal.io/server/cmd/tools/sql@v${TEMPORAL_SERVER_VERSION}`], { env: goEnv(partial), timeoutMs: GO_BUILD_TIMEOUT_MS });
    mkdirSync(path.dirname(paths.serverBinary), { recursive: true });
    for (const file of readdirSync(partial)) renameSync(path.join(partial, file), path.join(path.dirname(paths.serverBinary), file));
    rmSync(partial, { recursive: true, force: true });
    built.push('server', 'sql');
  }
  if (!existsSync(paths.uiServerBinary)) {
    // The UI server's own go.mod names module versions the proxy no longer serves; ours pins served ones.
    mkdirSync(paths.uiBuildDir, { recursive: true });
    for (const file of ['go.mod', 'go.sum']) copyFileSync(path.join(settings.root, 'scripts', 'cluster', 'ui-server', file), path.join(paths.uiBuildDir, file));
    log('building the Temporal UI server');
    const partial = `${paths.uiServerBinary}.partial`;
    await run('go', ['build', '-trimpath', '-o', partial, 'github.com/temporalio/ui-server/v2/cmd/server'], { env: goEnv(), cwd: paths.uiBuildDir, timeoutMs: GO_BUILD_TIMEOUT_MS });
    renameSync(partial, paths.uiServerBinary);
    built.push('ui-server');
  }
  return built;
}

const schemaMarker = (paths: ClusterPaths, database: string) => path.join(paths.postgresDir, `schema-${database}.created`);

/** True once `up` has created every database (the marker files are written after setup). */
export function schemasCreated(paths: ClusterPaths): boolean {
  return TEMPORAL_DATABASES.every(({ database }) => existsSync(schemaMarker(paths, database)));
}

function schemaToolArgs(settings: ClusterSettings, database: string): string[] {
  return ['--plugin', 'postgres12', '--endpoint', '127.0.0.1', '--port', String(settings.ports.postgres), '--user', POSTGRES_USER, '--database', database];
}

/** Creates each database once and sets up its versioning; then migrates it to this server version's schema (a no-op when current). */
export async function migrateSchemas(settings: ClusterSettings, paths: ClusterPaths, password: string, log: (line: string) => void): Promise<void> {
  const env = { ...process.env, SQL_PASSWORD: password };
  for (const { database, schemaName } of TEMPORAL_DATABASES) {
    const marker = schemaMarker(paths, database);
    const args = schemaToolArgs(settings, database);
    if (!existsSync(marker)) {
      log(`creating database ${database}`);
      await run(paths.schemaTool, [...args, 'create-database'], { env, timeoutMs: SCHEMA_TOOL_TIMEOUT_MS }).catch((err: Error) => {
        if (!/already exists/.test(err.message)) throw err;
      });
      await run(paths.schemaTool, [...args, 'setup-schema', '--version', '0.0'], { env, timeoutMs: SCHEMA_TOOL_TIMEOUT_MS });
      writeFileSync(marker, `${new Date().toISOString()}\n`);
    }
    await run(paths.schemaTool, [...args, 'update-schema', '--schema-name', schemaName], { env, timeoutMs: SCHEMA_TOOL_TIMEOUT_MS });
  }
}

/**
 * The environment of every Temporal service process: the variables of the server's embedded config template
 * (config/docker.yaml of go.temporal.io/server), the same ones the compose file gives the temporalio/server image.
 */
export function temporalServiceEnvironment(settings: ClusterSettings, paths: ClusterPaths, certs: ClusterCertificates, password: string): Record<string, string> {
  const { ports } = settings;
  return {
    DB: 'postgres12',
    DB_PORT: String(ports.postgres),
    POSTGRES_SEEDS: '127.0.0.1',
    POSTGRES_USER,
    POSTGRES_PWD: password,
    DBNAME: 'temporal',
    VISIBILITY_DBNAME: 'temporal_visibility',
    NUM_HISTORY_SHARDS: String(HISTORY_SHARDS),
    DYNAMIC_CONFIG_FILE_PATH: paths.dynamicConfig,
    LOG_LEVEL: 'warn',
    BIND_ON_IP: '127.0.0.1',
    TEMPORAL_BROADCAST_ADDRESS: '127.0.0.1',
    FRONTEND_GRPC_PORT: String(ports.frontendGrpc),
    FRONTEND_HTTP_PORT: String(ports.frontendHttp),
    FRONTEND_MEMBERSHIP_PORT: String(ports.frontendMembership),
    HISTORY_GRPC_PORT: String(ports.history),
    HISTORY_MEMBERSHIP_PORT: String(ports.historyMembership),
    MATCHING_GRPC_PORT: String(ports.matching),
    MATCHING_MEMBERSHIP_PORT: String(ports.matchingMembership),
    WORKER_GRPC_PORT: String(ports.worker),
    WORKER_MEMBERSHIP_PORT: String(ports.workerMembership),
    // mTLS everywhere: clients of the frontend and the services among themselves show a certificate of the CA.
    TEMPORAL_TLS_REQUIRE_CLIENT_AUTH: 'true',
    TEMPORAL_TLS_SERVER_CA_CERT: certs.ca,
    TEMPORAL_TLS_SERVER_CERT: certs.internode.cert,
    TEMPORAL_TLS_SERVER_KEY: certs.internode.key,
    TEMPORAL_TLS_INTERNODE_SERVER_NAME: INTERNODE_SERVER_NAME,
    TEMPORAL_TLS_FRONTEND_CERT: certs.frontend.cert,
    TEMPORAL_TLS_FRONTEND_KEY: certs.frontend.key,
    TEMPORAL_TLS_FRONTEND_SERVER_NAME: FRONTEND_SERVER_NAME,
    // Two CA slots: during a CA rotation the second names the next CA, so old and new client certificates both pass.
    TEMPORAL_TLS_CLIENT1_CA_CERT: certs.ca,
    TEMPORAL_TLS_CLIENT2_CA_CERT: certs.ca,
    // Certificates are read again from their files this often: a renewed certificate needs no restart.
    TEMPORAL_TLS_REFRESH_INTERVAL: '1m',
  };
}

/** The temporal CLI with the cluster's address and the CLI's client certificate. */
export function temporalCliArgs(settings: ClusterSettings, certs: ClusterCertificates, args: string[]): string[] {
  const client: CertificatePair = certs.clients['temporal-cli'];
  return [
    ...args,
    '--address', `127.0.0.1:${settings.ports.frontendGrpc}`,
    '--namespace', settings.namespace,
    '--tls-ca-path', certs.ca,
    '--tls-cert-path', client.cert,
    '--tls-key-path', client.key,
    '--tls-server-name', FRONTEND_SERVER_NAME,
  ];
}

export function temporalCliPath(settings: ClusterSettings): string {
  const fromEnv = process.env.TEMPORAL_CLI_PATH?.trim();
  if (fromEnv) return fromEnv;
  const provisioned = path.join(settings.root, '.tools', 'temporal', 'bin', 'temporal');
  return existsSync(provisioned) ? provisioned : 'temporal';
}

export function temporalCli(settings: ClusterSettings, certs: ClusterCertificates, args: string[]): Promise<string> {
  return run(temporalCliPath(settings), temporalCliArgs(settings, certs, args), { timeoutMs: CLI_TIMEOUT_MS });
}

/** Registers the namespace and the injector's search attributes, skipping what exists. */
export async function ensureNamespace(settings: ClusterSettings, certs: ClusterCertificates, log: (line: string) => void): Promise<void> {
  const described = await temporalCli(settings, certs, ['operator', 'namespace', 'describe', '--output', 'json']).catch(() => undefined);
  if (described === undefined) {
    log(`registering namespace ${settings.namespace} (retention ${NAMESPACE_RETENTION})`);
    // A describe that failed while the database was still recovering finds it registered after all.
    await temporalCli(settings, certs, ['operator', 'namespace', 'create', '--retention', NAMESPACE_RETENTION]).catch((err: Error) => {
      if (!/already exists/.test(err.message)) throw err;
    });
  }
  // A namespace just registered reaches the frontend's namespace cache a few seconds later.
  let listed = '';
  await waitUntil(`namespace ${settings.namespace} is known to the frontend`, async () => {
    listed = await temporalCli(settings, certs, ['operator', 'search-attribute', 'list', '--output', 'json']);
    return true;
  }, { timeoutMs: NAMESPACE_VISIBLE_TIMEOUT_MS });
  for (const { name, type } of CUSTOM_SEARCH_ATTRIBUTES) {
    if (listed.includes(`"${name}"`)) continue;
    log(`registering search attribute ${name} (${type})`);
    await temporalCli(settings, certs, ['operator', 'search-attribute', 'create', '--name', name, '--type', type]);
  }
}

/** True once the namespace answers a visibility query on the injector's search attribute: ready for workers. */
export async function namespaceReady(settings: ClusterSettings, certs: ClusterCertificates): Promise<boolean> {
  await temporalCli(settings, certs, ['workflow', 'count', '--query', `${CUSTOM_SEARCH_ATTRIBUTES[0].name} = "readiness-probe"`]);
  return true;
}

export async function frontendHealthy(settings: ClusterSettings, certs: ClusterCertificates): Promise<boolean> {
  const out = await temporalCli(settings, certs, ['operator', 'cluster', 'health']);
  return /SERVING/.test(out);
}

/** `temporal worker deployment <args>` against the cluster's deployment of injector workers, JSON out. */
async function deploymentCli(settings: ClusterSettings, certs: ClusterCertificates, args: string[]): Promise<unknown> {
  return JSON.parse(await temporalCli(settings, certs, ['worker', 'deployment', ...args, '--output', 'json'])) as unknown;
}

/**
 * The build id the deployment sends new workflows to; undefined while it has none (or does not exist yet). The CLI
 * (1.9.1) prints `routingConfig.currentVersionBuildID`.
 */
export async function currentBuildIdOf(settings: ClusterSettings, certs: ClusterCertificates, deploymentName: string): Promise<string | undefined> {
  const described = (await deploymentCli(settings, certs, ['describe', '--name', deploymentName]).catch((err: Error) => {
    if (/not found/i.test(err.message)) return undefined;
    throw err;
  })) as { routingConfig?: { currentVersionBuildID?: unknown } } | undefined;
  const buildId = described?.routingConfig?.currentVersionBuildID;
  return typeof buildId === 'string' && buildId !== '' ? buildId : undefined;
}

/** Makes `buildId` the deployment's current version: new workflows (and auto-upgrading ones) go to its workers. */
export async function setCurrentBuildId(settings: ClusterSettings, certs: ClusterCertificates, deploymentName: string, buildId: string): Promise<void> {
  await temporalCli(settings, certs, ['worker', 'deployment', 'set-current-version', '--deployment-name', deploymentName, '--build-id', buildId, '--yes']);
}

/**
 * The version's drainage status as the server computes it (CLI: `drainageInfo.drainageStatus`): 'DRAINING',
 * 'DRAINED', or undefined while it is current or has not been checked yet.
 */
export async function drainageStatusOf(settings: ClusterSettings, certs: ClusterCertificates, deploymentName: string, buildId: string): Promise<string | undefined> {
  const described = (await deploymentCli(settings, certs, ['describe-version', '--deployment-name', deploymentName, '--build-id', buildId])) as { drainageInfo?: { drainageStatus?: unknown } };
  const status = described.drainageInfo?.drainageStatus;
  return typeof status === 'string' && status !== '' && status !== 'unspecified' ? status.replace(/^VERSION_DRAINAGE_STATUS_/i, '').toUpperCase() : undefined;
}

/**
 * The task queues the server knows the version by (`taskQueuesInfos`), once a worker of it has polled; an empty list
 * while the version is not registered yet (a new worker's first polls reach the deployment a moment after it starts).
 */
export async function versionTaskQueues(settings: ClusterSettings, certs: ClusterCertificates, deploymentName: string, buildId: string): Promise<string[]> {
  const described = (await deploymentCli(settings, certs, ['describe-version', '--deployment-name', deploymentName, '--build-id', buildId]).catch(() => undefined)) as
    | { taskQueuesInfos?: Array<{ name?: unknown }> }
    | undefined;
  return [...new Set((described?.taskQueuesInfos ?? []).map((q) => q.name).filter((n): n is string => typeof n === 'string'))];
}

/** Forgets a drained version whose workers are gone (the server refuses while it saw them poll lately, 5 minutes by default). */
export async function deleteVersion(settings: ClusterSettings, certs: ClusterCertificates, deploymentName: string, buildId: string): Promise<void> {
  await temporalCli(settings, certs, ['worker', 'deployment', 'delete-version', '--deployment-name', deploymentName, '--build-id', buildId]);
}
