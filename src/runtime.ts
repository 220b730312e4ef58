// Wires config to running parts: workers (Temporal + Docker) and the gateway (HTTP). Used by every entry point.
import http from 'node:http';
import { AddressInfo } from 'node:net';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import type { Config } from './config';
import { createAgentChannel, createDockerAdapter } from './docker';
import { createRuntimeDrivers } from './docker/drivers/runtime-drivers';
import { createApp } from './gateway/app';
import { createHealthProbes } from './gateway/health';
import { createInjectionService } from './gateway/injection-service';
import { createGatewayMetrics } from './gateway/metrics';
import { createProgramChecker } from './gateway/program-check';
import { createTargetResolver } from './gateway/target-resolver';
import { ApiTokenGrant, fullGrant } from './shared/api-tokens';
import { writeDevToken } from './shared/dev-token';
import type { Logger } from './shared/logger';
import { loadSigningKeys, programSealing } from './shared/signing-key';
import { dockerHostTaskQueue, mainTaskQueue } from './shared/task-queues';
import { createInjectorWorkers, DEFAULT_WORKFLOWS_PATH, InjectorWorkersOptions, WorkflowSource } from './worker/worker';
import type { Tracing } from './telemetry/tracing';
import { installSdkRuntime } from './temporal/sdk-logging';
import { temporalTlsOptions } from './temporal/tls';

export const GATEWAY_CLOSE_TIMEOUT_MS = 10_000;
/** While the gateway closes, how often sockets that have gone idle are closed. */
const IDLE_SWEEP_MS = 50;

export class InsecureGatewayError extends Error {
  constructor() {
    super(
      'no API token is configured (OPENCLAW_API_TOKENS) and OPENCLAW_INSECURE_DEV is not set: refusing to start a gateway without tokens. ' +
        'Set OPENCLAW_API_TOKENS to one or more comma-separated tokens of at least 32 characters (docs/configuration.md), ' +
        'or set OPENCLAW_INSECURE_DEV=1 on your own machine for a generated dev token.',
    );
    this.name = 'InsecureGatewayError';
  }
}

/** Interfaces dev mode may listen on. */
export const LOOPBACK_INTERFACES: readonly string[] = ['127.0.0.1', 'localhost', '::1'];

export class DevModeNotLoopbackError extends Error {
  constructor(host: string) {
    super(
      `dev mode (OPENCLAW_INSECURE_DEV with no OPENCLAW_API_TOKENS) listens on loopback only, but OPENCLAW_GATEWAY_HOST is ${JSON.stringify(host)}. ` +
        `Use ${LOOPBACK_INTERFACES.join(', ')}, or set OPENCLAW_API_TOKENS to serve other machines.`,
    );
    this.name = 'DevModeNotLoopbackError';
  }
}

function dockerAdapterFor(config: Config) {
  return createDockerAdapter({ dockerHost: config.dockerHost, tlsVerify: config.dockerTlsVerify, certPath: config.dockerCertPath, hostPathRoot: config.hostPathRoot });
}

export interface RunningWorkers {
  taskQueues: string[];
  done: Promise<void>;
  stop(): Promise<void>;
}

/** The worker slots the configuration asks for (OPENCLAW_*_SLOTS), as the SDK's worker options. */
export function configuredWorkerTuning(config: Config): NonNullable<InjectorWorkersOptions['tuning']> {
  return {
    maxConcurrentWorkflowTaskExecutions: config.workerSlots.workflowTasks,
    maxConcurrentActivityTaskExecutions: config.workerSlots.activities,
    maxConcurrentLocalActivityExecutions: config.workerSlots.localActivities,
  };
}

export async function startWorkers(options: {
  config: Config;
  temporalAddress: string;
  logger: Logger;
  workflows?: WorkflowSource;
  /** Worker slots and cache (see InjectorWorkersOptions); the configured slots (config.workerSlots) when absent. */
  tuning?: InjectorWorkersOptions['tuning'];
  /** OpenTelemetry for this process (tracingFromConfig in the entry point); absent: no tracing. */
  tracing?: Tracing;
}): Promise<RunningWorkers> {
  const { config, logger } = options;
  // The SDK's info lines (worker state changes) drown the injector's own; they show with OPENCLAW_LOG_LEVEL=debug.
  installSdkRuntime({ logger: logger.child({ component: 'temporal-sdk' }), level: config.logLevel === 'debug' ? 'debug' : 'warn', metricsAddress: config.sdkMetricsAddress });
  const docker = dockerAdapterFor(config);
  const signingKeys = loadSigningKeys(config);
  if (signingKeys.source === 'dev-file') {
    logger.warn('using the dev signing key pair from the data directory; set OPENCLAW_SIGNING_KEY or OPENCLAW_SIGNING_KEY_FILE in production', { file: signingKeys.file, keyId: signingKeys.pair.keyId });
  }
  const connection = await NativeConnection.connect({ address: options.temporalAddress, tls: temporalTlsOptions(config.temporalTls) });
  const workers = await createInjectorWorkers({
    connection,
    namespace: config.temporalNamespace,
    taskQueue: config.taskQueue,
    dockerHostName: config.dockerHostName,
    workflows: options.workflows ?? { workflowsPath: DEFAULT_WORKFLOWS_PATH },
    deployment: config.workerDeployment,
    ...(options.tracing ? { tracing: options.tracing } : {}),
    injectorDeps: { logger: logger.child({ component: 'activities' }) },
    dockerDeps: {
      hostName: config.dockerHostName,
      logger: logger.child({ component: 'docker-activities' }),
      docker,
      channel: createAgentChannel(docker),
      sealing: programSealing(signingKeys, config),
      identity: config.agentIdentity,
      runtimes: createRuntimeDrivers(docker),
    },
    tuning: options.tuning ?? configuredWorkerTuning(config),
  });
  const done = workers.run();
  return {
    taskQueues: [mainTaskQueue(config.taskQueue), dockerHostTaskQueue(config.taskQueue, config.dockerHostName)],
    done,
    stop: async () => {
      workers.shutdown();
      await done.catch(() => undefined);
      await connection.close();
    },
  };
}

export interface RunningGateway {
  url: string;
  /** Dev mode only: the generated token (show it once) and the file the CLI finds it in. */
  devToken?: { token: string; file: string };
  stop(): Promise<void>;
}

export async function startGateway(options: { config: Config; temporalAddress: string; logger: Logger; port?: number; tracing?: Tracing }): Promise<RunningGateway> {
  const { config, logger } = options;
  let apiTokens: ApiTokenGrant[] = config.apiTokens;
  let devToken: RunningGateway['devToken'];
  if (apiTokens.length === 0) {
    if (!config.insecureDev) throw new InsecureGatewayError();
    if (!LOOPBACK_INTERFACES.includes(config.gatewayHost)) throw new DevModeNotLoopbackError(config.gatewayHost);
    devToken = writeDevToken(config.dataDir);
    apiTokens = [fullGrant(devToken.token)];
    logger.warn('dev mode: a generated token, loopback only, Host checked; set OPENCLAW_API_TOKENS for anything else', { tokenFile: devToken.file });
  }
  const connection = await Connection.connect({ address: options.temporalAddress, tls: temporalTlsOptions(config.temporalTls) });
  const client = new Client({ connection, namespace: config.temporalNamespace, ...(options.tracing ? { interceptors: { workflow: options.tracing.clientInterceptors } } : {}) });
  const gatewayLogger = logger.child({ component: 'gateway' });
  const metrics = createGatewayMetrics();
  const injections = createInjectionService({
    client,
    taskQueue: config.taskQueue,
    dockerHosts: config.dockerHosts,
    metrics,
    logger: gatewayLogger,
    pageTokenSecret: config.pageTokenSecret,
  });
  let listeningPort = 0;
  const app = createApp({
    apiTokens,
    logger: gatewayLogger,
    injections,
    programs: createProgramChecker(),
    targets: createTargetResolver({ client, taskQueue: config.taskQueue, dockerHosts: config.dockerHosts }),
    metrics,
    health: createHealthProbes({ client, namespace: config.temporalNamespace, taskQueue: config.taskQueue, dockerHosts: config.dockerHosts, logger: gatewayLogger }),
    ...(devToken ? { loopbackHostPort: () => listeningPort } : {}),
    ...(options.tracing ? { tracer: options.tracing.tracer } : {}),
  });
  const server = http.createServer(app);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? config.gatewayPort, config.gatewayHost, () => resolve());
  });
  listeningPort = (server.address() as AddressInfo).port;
  const shownHost = config.gatewayHost === '0.0.0.0' ? 'localhost' : config.gatewayHost === '::1' ? '[::1]' : config.gatewayHost;
  return {
    url: `http://${shownHost}:${listeningPort}`,
    ...(devToken ? { devToken } : {}),
    stop: async () => {
      // Stop accepting first; then end the long polls, so a client waiting on `?wait=true` gets its answer now
      // instead of holding the close until the connections are cut; then let the other requests finish.
      const serverClosed = closeServer(server);
      await injections.close();
      await serverClosed;
      await connection.close();
    },
  };
}

/**
 * Stops accepting connections, lets in-flight requests finish, and closes each keep-alive socket as soon as it is idle
 * (a socket whose request ends during the close would otherwise linger for the keep-alive timeout); whatever is still
 * open after GATEWAY_CLOSE_TIMEOUT_MS is cut.
 */
function closeServer(server: http.Server): Promise<void> {
  return new Promise((resolve) => {
    const force = setTimeout(() => server.closeAllConnections(), GATEWAY_CLOSE_TIMEOUT_MS);
    const sweep = setInterval(() => server.closeIdleConnections(), IDLE_SWEEP_MS);
    server.close(() => {
      clearTimeout(force);
      clearInterval(sweep);
      resolve();
    });
    server.closeIdleConnections();
  });
}

export interface RunningInjector {
  gatewayUrl: string;
  devToken?: RunningGateway['devToken'];
  taskQueues: string[];
  workersDone: Promise<void>;
  stop(): Promise<void>;
}

/** Workers and gateway in one process: the `npm start` default. */
export async function startInjector(options: { config: Config; temporalAddress: string; logger: Logger; tracing?: Tracing }): Promise<RunningInjector> {
  const workers = await startWorkers(options);
  let gateway: RunningGateway;
  try {
    gateway = await startGateway(options);
  } catch (err) {
    await workers.stop();
    throw err;
  }
  return {
    gatewayUrl: gateway.url,
    ...(gateway.devToken ? { devToken: gateway.devToken } : {}),
    taskQueues: workers.taskQueues,
    workersDone: workers.done,
    stop: async () => {
      await gateway.stop();
      await workers.stop();
    },
  };
}
