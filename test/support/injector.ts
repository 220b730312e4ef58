// An injector for workflow tests: real workers (real Docker adapter, real compiler) on the run's dev server.
import { randomUUID } from 'node:crypto';
import type { Client, WorkflowHandle } from '@temporalio/client';
import type { NativeConnection } from '@temporalio/worker';
import type { Config } from '../../src/config';
import { createAgentChannel, createDockerAdapter, DockerAdapter, AgentChannel } from '../../src/docker';
import { createRuntimeDrivers } from '../../src/docker/drivers/runtime-drivers';
import { createLogger } from '../../src/shared/logger';
import type { SigningKeyPair } from '../../src/signing/keys';
import type { AgentInjectionResult, OnBusy, Priority, SwarmInjectionInput, SwarmInjectionResult, TargetSelector } from '../../src/shared/injection-types';
import { childWorkflowId, PRIORITY_KEY } from '../../src/shared/injection-types';
import { INJECTION_ID } from '../../src/shared/search-attributes';
import { mainTaskQueue } from '../../src/shared/task-queues';
import { createInjectorWorkers, InjectorWorkers } from '../../src/worker/worker';
import { swarmInjectionWorkflow } from '../../workflows';
import { testSealing } from './signing';
import { testClient, testConfig, testNativeConnection, testWorkflowBundle } from './temporal';

export interface TestInjector {
  config: Config;
  client: Client;
  docker: DockerAdapter;
  channel: AgentChannel;
  startSwarm(options: {
    source: string;
    targets: TargetSelector;
    context?: Record<string, unknown>;
    priority?: Priority;
    injectionId?: string;
    onBusy?: OnBusy;
    limits?: SwarmInjectionInput['limits'];
  }): Promise<WorkflowHandle<typeof swarmInjectionWorkflow>>;
  runSwarm(options: Parameters<TestInjector['startSwarm']>[0]): Promise<SwarmInjectionResult>;
  agentResult(injectionId: string, agentId: string): Promise<AgentInjectionResult>;
  /** Stops the in-process workers (a graceful drain), e.g. before a separate worker process takes over. */
  stopWorkers(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * `temporalAddress`: a test's own dev server instead of the run's (then only with `workers: false`).
 * `wrapWorkerChannel`: what the workers' activities talk to the agents through, for a test that injects a fault into
 * it; the returned `channel` stays the plain one.
 */
export async function startTestInjector(options: {
  /** The workers' key pair; the agents must trust its public half (startAgents does). */
  signingKey: SigningKeyPair;
  /** Keys the workers also trust when re-sealing a previous program for a rollback (the key rotated from). */
  alsoTrusted?: SigningKeyPair[];
  workers?: boolean;
  overrides?: Record<string, string>;
  temporalAddress?: string;
  wrapWorkerChannel?: (channel: AgentChannel) => AgentChannel;
  /** What the workers' activities (and their channel) use as the Docker adapter, e.g. to count its calls. */
  wrapWorkerDocker?: (docker: DockerAdapter) => DockerAdapter;
}): Promise<TestInjector> {
  const config = testConfig({ ...options.overrides, ...(options.temporalAddress ? { TEMPORAL_ADDRESS: options.temporalAddress } : {}) });
  const docker = createDockerAdapter({ dockerHost: config.dockerHost });
  const channel = createAgentChannel(docker);
  const workerDocker = options.wrapWorkerDocker?.(docker) ?? docker;
  const baseWorkerChannel = workerDocker === docker ? channel : createAgentChannel(workerDocker);
  const workerChannel = options.wrapWorkerChannel?.(baseWorkerChannel) ?? baseWorkerChannel;
  const logger = createLogger({ level: 'warn', component: 'test-injector' });
  const { client, close } = await testClient(options.temporalAddress);
  let connection: NativeConnection | undefined;
  let workers: InjectorWorkers | undefined;
  let running: Promise<void> | undefined;
  if (options.workers !== false) {
    connection = await testNativeConnection();
    workers = await createInjectorWorkers({
      connection,
      namespace: config.temporalNamespace,
      taskQueue: config.taskQueue,
      dockerHostName: config.dockerHostName,
      workflows: testWorkflowBundle(),
      injectorDeps: { logger },
      dockerDeps: { hostName: config.dockerHostName, logger, docker: workerDocker, channel: workerChannel, sealing: testSealing(options.signingKey, ...(options.alsoTrusted ?? [])), runtimes: createRuntimeDrivers(docker) },
    });
    running = workers.run();
  }
  const stopWorkers = async () => {
    workers?.shutdown();
    await running;
    await connection?.close();
    workers = undefined;
    connection = undefined;
  };

  const startSwarm: TestInjector['startSwarm'] = async (swarm) => {
    const injectionId = swarm.injectionId ?? `inj-${randomUUID()}`;
    const input: SwarmInjectionInput = {
      injectionId,
      source: swarm.source,
      context: swarm.context ?? {},
      targets: swarm.targets,
      priority: swarm.priority ?? 'medium',
      requestedBy: 'jest',
      taskQueue: config.taskQueue,
      dockerHosts: [config.dockerHostName],
      ...(swarm.onBusy ? { onBusy: swarm.onBusy } : {}),
      ...(swarm.limits ? { limits: swarm.limits } : {}),
    };
    return client.workflow.start(swarmInjectionWorkflow, {
      workflowId: injectionId,
      taskQueue: mainTaskQueue(config.taskQueue),
      args: [input],
      typedSearchAttributes: [{ key: INJECTION_ID, value: injectionId }],
      priority: { priorityKey: PRIORITY_KEY[input.priority] },
    });
  };

  return {
    config,
    client,
    docker,
    channel,
    startSwarm,
    runSwarm: async (swarm) => (await startSwarm(swarm)).result(),
    agentResult: (injectionId, agentId) => client.workflow.getHandle(childWorkflowId(injectionId, agentId)).result(),
    stopWorkers,
    stop: async () => {
      await stopWorkers();
      await close();
    },
  };
}
