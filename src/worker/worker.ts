// Builds the injector's Temporal workers: one on the main queue (workflows, compile), one on this Docker host's queue.
import path from 'node:path';
import { Client } from '@temporalio/client';
import { bundleWorkflowCode, DefaultLogger, NativeConnection, Worker, WorkerOptions } from '@temporalio/worker';
import { createDockerActivities, createInjectorActivities, DockerActivityDeps, InjectorActivityDeps } from '../../activities';
import { createLeaseActivities } from '../../activities/lease-activities';
import { createProgramSource } from './program-source';
import { activityMetricsInterceptor } from '../telemetry/activity-metrics';
import { Tracing, TRACING_WORKFLOW_INTERCEPTOR_MODULE } from '../telemetry/tracing';
import { dockerHostTaskQueue, mainTaskQueue } from '../shared/task-queues';

/** Where the worker finds the workflow code: a prebuilt bundle (tests) or the workflows folder (bundled at start-up). */
export type WorkflowSource = { bundlePath: string } | { workflowsPath: string };

const QUIET_BUNDLER_LOGGER = new DefaultLogger('WARN');

export const DEFAULT_WORKFLOWS_PATH = path.resolve(__dirname, '..', '..', 'workflows');

/** Workflow interceptors bundled with the workflow code (the SDK reads them from the bundle, not the worker options). */
export const WORKFLOW_INTERCEPTOR_MODULES: readonly string[] = [path.resolve(__dirname, '..', '..', 'workflows', 'interceptors', 'outcome-metrics')];

/**
 * Bundles the workflows with the injector's workflow interceptors: the one way a bundle is made (worker and tests).
 * `tracing`: also bundle OpenTelemetry's workflow interceptors (spans per workflow, child, activity and timer, sent out
 * through the worker's sink); without it the bundle holds no tracing code at all.
 */
export async function bundleInjectorWorkflows(
  workflowsPath: string,
  logger: Parameters<typeof bundleWorkflowCode>[0]['logger'] = QUIET_BUNDLER_LOGGER,
  options: { tracing?: boolean } = {},
): Promise<{ code: string }> {
  const workflowInterceptorModules = [...WORKFLOW_INTERCEPTOR_MODULES, ...(options.tracing ? [TRACING_WORKFLOW_INTERCEPTOR_MODULE] : [])];
  return bundleWorkflowCode({ workflowsPath, workflowInterceptorModules, logger });
}

/**
 * Interceptors and sinks on every worker: step latency, retries, rollbacks and leases on the SDK's metric meter; with
 * tracing, a span per activity attempt (after the metrics, so the span covers only the step) and the workflows' span sink.
 */
function workerInterceptorsAndSinks(tracing: Tracing | undefined): Pick<WorkerOptions, 'interceptors' | 'sinks'> {
  if (!tracing) return { interceptors: { activity: [activityMetricsInterceptor] } };
  return { interceptors: { activity: [activityMetricsInterceptor, ...tracing.activityInterceptors] }, sinks: tracing.workflowSinks };
}

export interface InjectorWorkersOptions {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  dockerHostName: string;
  workflows: WorkflowSource;
  injectorDeps: InjectorActivityDeps;
  /** Absent on a process that serves no Docker host. `programs` defaults to fetching from the holders over this connection. */
  dockerDeps?: Omit<DockerActivityDeps, 'programs'> & Partial<Pick<DockerActivityDeps, 'programs'>>;
  /**
   * False for a process that serves only its Docker host's queue (workflows run elsewhere). The SDK allows one worker
   * per task queue in a process, so two hosts served from one process share a single main-queue worker.
   */
  serveMainQueue?: boolean;
  /**
   * Worker Versioning: both workers poll as this Worker Deployment Version, workflows PINNED to the version that
   * started them unless they say otherwise (the lease shards auto-upgrade). Undefined: unversioned workers.
   */
  deployment?: { deploymentName: string; buildId: string };
  /** Tuning knobs passed through to both workers (slots, pollers, cache size). */
  tuning?: Pick<WorkerOptions, 'maxConcurrentActivityTaskExecutions' | 'maxConcurrentWorkflowTaskExecutions' | 'maxConcurrentLocalActivityExecutions' | 'maxCachedWorkflows'>;
  /** OpenTelemetry (src/telemetry/tracing.ts); absent: no tracing. A prebuilt bundle must then be built with `tracing` too. */
  tracing?: Tracing;
}

export interface InjectorWorkers {
  workers: Worker[];
  /** Runs every worker until shutdown() or until one fails; resolves when all have drained. */
  run(): Promise<void>;
  shutdown(): void;
}

export async function createInjectorWorkers(options: InjectorWorkersOptions): Promise<InjectorWorkers> {
  // Bundled once and shared: both workers run workflows.
  const workflowOptions =
    'bundlePath' in options.workflows
      ? { workflowBundle: { codePath: options.workflows.bundlePath } }
      : { workflowBundle: await bundleInjectorWorkflows(options.workflows.workflowsPath, QUIET_BUNDLER_LOGGER, { tracing: options.tracing !== undefined }) };
  const versioning: Pick<WorkerOptions, 'workerDeploymentOptions'> = options.deployment
    ? { workerDeploymentOptions: { version: { ...options.deployment }, useWorkerVersioning: true, defaultVersioningBehavior: 'PINNED' } }
    : {};
  const observability = workerInterceptorsAndSinks(options.tracing);
  const workers: Worker[] = [];
  // Activities that talk to Temporal themselves (program holders, lease shards) share the worker's connection.
  const client = new Client({ connection: options.connection, namespace: options.namespace, ...(options.tracing ? { interceptors: { workflow: options.tracing.clientInterceptors } } : {}) });
  if (options.serveMainQueue !== false) {
    workers.push(
      await Worker.create({
        connection: options.connection,
        namespace: options.namespace,
        taskQueue: mainTaskQueue(options.taskQueue),
        ...workflowOptions,
        ...versioning,
        ...observability,
        activities: {
          ...createInjectorActivities({ client, taskQueue: mainTaskQueue(options.taskQueue), ...options.injectorDeps }),
          ...createLeaseActivities({ client, taskQueue: mainTaskQueue(options.taskQueue) }),
        },
        ...options.tuning,
      }),
    );
  }
  if (options.dockerDeps) {
    workers.push(
      await Worker.create({
        connection: options.connection,
        namespace: options.namespace,
        taskQueue: dockerHostTaskQueue(options.taskQueue, options.dockerHostName),
        // The per-agent workflows run here too, next to the engine, so their short steps can be local activities.
        ...workflowOptions,
        ...versioning,
        ...observability,
        activities: createDockerActivities({ programs: createProgramSource(client), ...options.dockerDeps }),
        ...options.tuning,
      }),
    );
  }
  return {
    workers,
    run: async () => {
      const runs = workers.map((worker) => worker.run());
      try {
        await Promise.all(runs);
      } catch (err) {
        // One worker failed: drain the others before reporting, so no task is abandoned mid-flight.
        for (const worker of workers) if (worker.getState() === 'RUNNING') worker.shutdown();
        await Promise.allSettled(runs);
        throw err;
      }
    },
    shutdown: () => {
      for (const worker of workers) if (worker.getState() === 'RUNNING') worker.shutdown();
    },
  };
}
