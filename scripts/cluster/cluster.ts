// The cluster's life cycle: `up` brings up (or completes) PostgreSQL, the four Temporal services, the UI server and
// the injector's processes; `down` stops exactly those, keeping their state; `status` says what runs.
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { certificatePaths, ClusterCertificates, ensureCertificates } from './certs';
import { engines, ensureEngine, ensureInjector, ensureWorkers, gatewayUrl, injectorProcesses, recordedBuildId, secret, workerProcesses, writeBuildId } from './injector';
import { findPostgresBinaries, initPostgres, PostgresInstance, postgresPid, postgresRunning, startPostgres, stopPostgres } from './postgres';
import { dockerHostTaskQueue, mainTaskQueue } from '../../src/shared/task-queues';
import { managedProcess, ManagedProcess, runningPid, startDetached, stopProcess, waitUntil } from './processes';
import { checkBuildId, clusterPaths, ClusterPaths, ClusterSettings, FRONTEND_SERVER_NAME, WORKER_DEPLOYMENT_NAME } from './settings';
import {
  currentBuildIdOf,
  drainageStatusOf,
  ensureNamespace,
  ensureTemporalBinaries,
  frontendHealthy,
  migrateSchemas,
  namespaceReady,
  schemasCreated,
  setCurrentBuildId,
  TEMPORAL_SERVICES,
  versionTaskQueues,
  temporalServiceEnvironment,
} from './temporal';

export const TEMPORAL_START_TIMEOUT_MS = 180_000;
export const UI_START_TIMEOUT_MS = 60_000;
/** How long `upgrade` waits, by default, for the old version's pinned workflows to finish. */
export const DEFAULT_DRAIN_TIMEOUT_MS = 30 * 60_000;
/** How long a new version may take to be registered with every task queue and made current. */
export const VERSION_READY_TIMEOUT_MS = 120_000;

/**
 * Makes `buildId` current once the server knows it on every task queue its workers poll (a version is registered
 * from its workers' first polls, a moment after they start; setting it current before that is refused), retrying a
 * refusal until VERSION_READY_TIMEOUT_MS (a frontend restarted a moment ago answers slowly at first).
 */
async function makeCurrent(settings: ClusterSettings, certs: ClusterCertificates, buildId: string, taskQueues: string[]): Promise<void> {
  let lastError = '';
  await waitUntil(
    `build ${buildId} is registered on ${taskQueues.join(', ')} and made current`,
    async () => {
      const known = await versionTaskQueues(settings, certs, WORKER_DEPLOYMENT_NAME, buildId);
      if (!taskQueues.every((q) => known.includes(q))) return false;
      try {
        await setCurrentBuildId(settings, certs, WORKER_DEPLOYMENT_NAME, buildId);
        return true;
      } catch (err) {
        lastError = err instanceof Error ? err.message : String(err);
        throw err;
      }
    },
    { timeoutMs: VERSION_READY_TIMEOUT_MS },
  ).catch((err: Error) => {
    throw new Error(`${err.message}${lastError ? `\nlast refusal: ${lastError}` : ''}`);
  });
}

function workerTaskQueues(settings: ClusterSettings, paths: ClusterPaths): string[] {
  return [mainTaskQueue(settings.taskQueue), ...engines(settings, paths).map((e) => dockerHostTaskQueue(settings.taskQueue, e.hostName))];
}
const UI_ENVIRONMENT = 'cluster';

export type Log = (line: string) => void;

export function postgresInstance(paths: ClusterPaths, binDir: string, settings: ClusterSettings): PostgresInstance {
  return { binDir, dataDir: paths.postgresData, socketDir: paths.postgresSocketDir, port: settings.ports.postgres, logFile: path.join(paths.logsDir, 'postgres.log') };
}

export function temporalProcesses(paths: ClusterPaths): Array<{ service: (typeof TEMPORAL_SERVICES)[number]; proc: ManagedProcess }> {
  return TEMPORAL_SERVICES.map((service) => ({ service, proc: managedProcess(paths.pidsDir, paths.logsDir, `temporal-${service}`) }));
}

export function uiProcess(paths: ClusterPaths): ManagedProcess {
  return managedProcess(paths.pidsDir, paths.logsDir, 'temporal-ui');
}

/** The UI server's settings: the frontend over mTLS with its own client certificate, loopback only, read-only unless asked. */
export function uiServerConfig(settings: ClusterSettings, certs: ClusterCertificates) {
  const client = certs.clients['temporal-ui'];
  const origin = `http://127.0.0.1:${settings.ports.ui}`;
  return {
    temporalGrpcAddress: `127.0.0.1:${settings.ports.frontendGrpc}`,
    host: '127.0.0.1',
    port: settings.ports.ui,
    enableUi: true,
    defaultNamespace: settings.namespace,
    disableWriteActions: !settings.uiWriteActions,
    cors: { cookieInsecure: true, allowOrigins: [origin, `http://localhost:${settings.ports.ui}`] },
    auth: { enabled: false },
    tls: { caFile: certs.ca, certFile: client.cert, keyFile: client.key, serverName: FRONTEND_SERVER_NAME, enableHostVerification: true },
  };
}

async function startTemporal(settings: ClusterSettings, paths: ClusterPaths, certs: ClusterCertificates, password: string, freshDatabase: boolean, log: Log): Promise<void> {
  const env = { ...process.env, ...temporalServiceEnvironment(settings, paths, certs, password) };
  const procs = temporalProcesses(paths);
  const start = ({ service, proc }: (typeof procs)[number]) => {
    if (runningPid(proc) !== undefined) return;
    // No --config-file: the server renders its embedded template (config/docker.yaml) from the environment.
    startDetached(proc, paths.serverBinary, ['--allow-no-auth', 'start', '--service', service], { env, cwd: paths.logsDir });
    log(`started temporal ${service} (pid ${runningPid(proc)}, log ${proc.logFile})`);
  };
  // On a fresh database the frontend goes first: every service would race to write the cluster metadata, and all
  // but one fail; once the frontend serves, the metadata is there and the others only read it. Later, all start at
  // once (a frontend alone waits for history before it serves).
  if (freshDatabase) {
    start(procs[0]);
    await waitUntil('the Temporal frontend serves', () => frontendHealthy(settings, certs), { timeoutMs: TEMPORAL_START_TIMEOUT_MS, proc: procs[0].proc });
  }
  for (const service of procs) start(service);
  await waitUntil('the Temporal frontend serves', () => frontendHealthy(settings, certs), { timeoutMs: TEMPORAL_START_TIMEOUT_MS, proc: procs[0].proc });
  await ensureNamespace(settings, certs, log);
  await waitUntil(`namespace ${settings.namespace} answers visibility queries`, () => namespaceReady(settings, certs), { timeoutMs: TEMPORAL_START_TIMEOUT_MS, proc: procs[1].proc });
}

async function startUi(settings: ClusterSettings, paths: ClusterPaths, certs: ClusterCertificates, log: Log): Promise<void> {
  const proc = uiProcess(paths);
  if (runningPid(proc) !== undefined) return;
  mkdirSync(paths.uiConfigDir, { recursive: true });
  // JSON is YAML: the UI server reads <root>/config/<env>.yaml.
  writeFileSync(path.join(paths.uiConfigDir, `${UI_ENVIRONMENT}.yaml`), `${JSON.stringify(uiServerConfig(settings, certs), null, 2)}\n`);
  startDetached(proc, paths.uiServerBinary, ['--root', path.dirname(paths.uiConfigDir), '--config', 'config', '--env', UI_ENVIRONMENT, 'start'], { env: process.env, cwd: path.dirname(paths.uiConfigDir) });
  // The namespaces route goes through to the frontend: an answer proves the UI's own mTLS connection.
  await waitUntil('the Temporal UI answers', async () => (await fetch(`http://127.0.0.1:${settings.ports.ui}/api/v1/namespaces/${settings.namespace}`)).ok, { timeoutMs: UI_START_TIMEOUT_MS, proc });
  log(`started the Temporal UI (pid ${runningPid(proc)})`);
}

export interface UpOptions {
  /** Start the injector's workers and gateway too (default true). */
  injector?: boolean;
}

export async function up(settings: ClusterSettings, log: Log, options: UpOptions = {}): Promise<void> {
  const paths = clusterPaths(settings);
  for (const dir of [paths.logsDir, paths.pidsDir]) mkdirSync(dir, { recursive: true });
  const built = await ensureTemporalBinaries(settings, paths, log);
  if (built.length > 0) log(`built ${built.join(', ')}`);

  const certsMade = await ensureCertificates(paths.certsDir);
  if (certsMade.length > 0) log(`made certificates: ${certsMade.join(', ')} (in ${paths.certsDir})`);
  const certs = certificatePaths(paths.certsDir);

  const pg = postgresInstance(paths, await findPostgresBinaries(log), settings);
  const password = secret(paths, 'postgres-password');
  if (await initPostgres(pg, password, paths.postgresDir)) log(`initialised PostgreSQL in ${pg.dataDir}`);
  if (!(await postgresRunning(pg))) {
    await startPostgres(pg);
    log(`started PostgreSQL on 127.0.0.1:${pg.port} (pid ${postgresPid(pg)})`);
  }
  const freshDatabase = !schemasCreated(paths);
  await migrateSchemas(settings, paths, password, log);

  await startTemporal(settings, paths, certs, password, freshDatabase, log);
  await startUi(settings, paths, certs, log);

  if (options.injector ?? true) {
    for (const engine of engines(settings, paths)) if (await ensureEngine(engine, paths)) log(`started Docker engine ${engine.hostName} (${engine.dockerHost})`);
    const buildId = await recordedBuildId(settings, paths);
    const started = await ensureInjector(settings, paths, certs, buildId);
    if (started.length > 0) log(`started ${started.join(', ')} (Worker Deployment ${WORKER_DEPLOYMENT_NAME}, build ${buildId})`);
    // A deployment's first version is made current here; after that only `upgrade` moves it.
    const current = await currentBuildIdOf(settings, certs, WORKER_DEPLOYMENT_NAME);
    if (current === undefined) {
      await makeCurrent(settings, certs, buildId, workerTaskQueues(settings, paths));
      log(`made ${WORKER_DEPLOYMENT_NAME} build ${buildId} the current version`);
    } else if (current !== buildId) {
      log(`warning: the current version is build ${current}, but the workers run build ${buildId} (an upgrade left unfinished? run upgrade again)`);
    }
  }
  log(`up: frontend 127.0.0.1:${settings.ports.frontendGrpc} (mTLS), UI http://127.0.0.1:${settings.ports.ui}${options.injector ?? true ? `, gateway ${gatewayUrl(settings)}` : ''}`);
}

export interface UpgradeOptions {
  drainTimeoutMs?: number;
}

/**
 * Moves the injector's workers to a new build without stopping a rollout: starts the new build's workers beside the
 * old ones, makes it the current version (new injections go there; pinned ones stay where they started), waits until
 * the server reports the old version drained (no open workflow pinned to it), then stops the old workers. The new
 * workers take the usual names, so `down`, `status` and `up` carry on with them.
 */
export async function upgrade(settings: ClusterSettings, log: Log, newBuildId: string, options: UpgradeOptions = {}): Promise<void> {
  const paths = clusterPaths(settings);
  checkBuildId(newBuildId);
  const certs = certificatePaths(paths.certsDir);
  const oldBuildId = await recordedBuildId(settings, paths);
  if (oldBuildId === newBuildId) throw new Error(`the workers already run build ${newBuildId}`);
  const current = injectorProcesses(settings, paths).workers;
  const missing = current.filter((w) => runningPid(w.proc) === undefined);
  if (missing.length > 0) throw new Error(`${missing.map((w) => w.proc.name).join(', ')} not running: run \`npm run cluster -- up\` first`);

  const next = workerProcesses(settings, paths, 'next');
  await ensureWorkers(settings, paths, certs, newBuildId, next);
  log(`started ${next.map((w) => w.proc.name).join(', ')} as build ${newBuildId}`);
  await makeCurrent(settings, certs, newBuildId, workerTaskQueues(settings, paths));
  log(`made ${WORKER_DEPLOYMENT_NAME} build ${newBuildId} the current version; build ${oldBuildId} drains`);

  const drainStarted = Date.now();
  let last: string | undefined;
  await waitUntil(
    `build ${oldBuildId} is drained`,
    async () => {
      const status = await drainageStatusOf(settings, certs, WORKER_DEPLOYMENT_NAME, oldBuildId);
      if (status !== last) log(`build ${oldBuildId}: ${status ?? 'no drainage status yet'}`);
      last = status;
      return status === 'DRAINED';
    },
    { timeoutMs: options.drainTimeoutMs ?? DEFAULT_DRAIN_TIMEOUT_MS },
  );
  log(`build ${oldBuildId} drained after ${((Date.now() - drainStarted) / 1000).toFixed(1)} s`);

  for (const { proc } of current) if (await stopProcess(proc)) log(`stopped ${proc.name} (build ${oldBuildId})`);
  // The new workers take the usual names: pid file and log move (an open log file keeps being written after a rename);
  // the old build's logs stay beside them as <name>-<old build id>.log.
  for (const [i, { proc }] of next.entries()) {
    renameSync(current[i].proc.logFile, current[i].proc.logFile.replace(/\.log$/, `-${oldBuildId}.log`));
    renameSync(proc.pidFile, current[i].proc.pidFile);
    renameSync(proc.logFile, current[i].proc.logFile);
  }
  writeBuildId(paths, newBuildId);
  log(`upgraded: ${current.map((w) => w.proc.name).join(', ')} run build ${newBuildId}; build ${oldBuildId} is retired`);
}

/** Stops, in reverse order, exactly what `up` started; the state directory stays. */
export async function down(settings: ClusterSettings, log: Log): Promise<void> {
  const paths = clusterPaths(settings);
  const { workers, gateway } = injectorProcesses(settings, paths);
  const ordered: ManagedProcess[] = [
    gateway,
    ...workers.map((w) => w.proc),
    // An upgrade cut short leaves the new build's workers beside the old ones.
    ...workerProcesses(settings, paths, 'next').map((w) => w.proc),
    uiProcess(paths),
    ...temporalProcesses(paths).map((t) => t.proc).reverse(),
    ...engines(settings, paths).flatMap((e) => (e.proc ? [e.proc] : [])),
  ];
  for (const proc of ordered) if (await stopProcess(proc)) log(`stopped ${proc.name}`);
  const binDir = await findPostgresBinaries(log).catch(() => undefined);
  if (binDir && (await stopPostgres(postgresInstance(paths, binDir, settings)))) log('stopped PostgreSQL');
  log(`down: state kept in ${settings.stateDir}`);
}

export interface StatusLine {
  name: string;
  pid: number | undefined;
  address: string;
}

export async function status(settings: ClusterSettings): Promise<StatusLine[]> {
  const paths = clusterPaths(settings);
  const { ports } = settings;
  const binDir = await findPostgresBinaries(() => undefined).catch(() => undefined);
  const pg = binDir ? postgresInstance(paths, binDir, settings) : undefined;
  const pgUp = pg ? await postgresRunning(pg) : false;
  const serviceAddress: Record<string, string> = {
    frontend: `127.0.0.1:${ports.frontendGrpc} (gRPC, mTLS), :${ports.frontendHttp} (HTTP)`,
    history: `127.0.0.1:${ports.history}`,
    matching: `127.0.0.1:${ports.matching}`,
    worker: `127.0.0.1:${ports.worker}`,
  };
  const { workers, gateway } = injectorProcesses(settings, paths);
  return [
    { name: 'postgres', pid: pgUp && pg ? postgresPid(pg) : undefined, address: `127.0.0.1:${ports.postgres}` },
    ...temporalProcesses(paths).map(({ service, proc }) => ({ name: proc.name, pid: runningPid(proc), address: serviceAddress[service] })),
    { name: 'temporal-ui', pid: runningPid(uiProcess(paths)), address: `http://127.0.0.1:${ports.ui}` },
    ...engines(settings, paths).flatMap((e) => (e.proc ? [{ name: e.proc.name, pid: runningPid(e.proc), address: e.dockerHost }] : [])),
    ...workers.map(({ engine, proc }) => ({ name: proc.name, pid: runningPid(proc), address: engine.dockerHost })),
    { name: gateway.name, pid: runningPid(gateway), address: gatewayUrl(settings) },
  ];
}
