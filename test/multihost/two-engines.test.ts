// Two Docker engines on one machine, a worker next to each: one swarm injection reaches the agents of both, and every
// agent's Docker activities run on its own host's task queue, through its own engine.
import { randomBytes } from 'node:crypto';
import type { Client } from '@temporalio/client';
import type { NativeConnection } from '@temporalio/worker';
import { LABEL_GROUP } from '../../src/agent/protocol';
import { createAgentChannel, createDockerAdapter, AgentChannel, DockerAdapter } from '../../src/docker';
import { createSwarmManager, SwarmManager } from '../../src/docker/agent-swarm';
import { dockerodeFor } from '../../src/docker/dockerode-adapter';
import { createLogger, Logger } from '../../src/shared/logger';
import { childWorkflowId, SwarmInjectionInput } from '../../src/shared/injection-types';
import { INJECTION_ID } from '../../src/shared/search-attributes';
import { dockerHostTaskQueue, mainTaskQueue } from '../../src/shared/task-queues';
import { createInjectorWorkers, InjectorWorkers } from '../../src/worker/worker';
import { swarmInjectionWorkflow } from '../../workflows';
import { ensureAgentImage, testDockerConnection, TEST_LABEL, waitUntilReady } from '../support/agents';
import { startSecondEngine, SecondEngine } from '../support/second-engine';
import { testClient, testConfig, testNativeConnection, testWorkflowBundle } from '../support/temporal';
import { formatTrustedKeys } from '../../src/signing/keys';
import { testSealing, testSigningKey, trustedKeysOf } from '../support/signing';

const AGENTS_PER_HOST = 2;
const SETUP_TIMEOUT_MS = 150_000;
const INJECTION_TIMEOUT_MS = 90_000;

interface Host {
  name: 'alpha' | 'beta';
  dockerHost: string;
  docker: DockerAdapter;
  channel: AgentChannel;
  swarm: SwarmManager;
  agentIds: string[];
  logLines: Record<string, unknown>[];
}

function hostOn(name: Host['name'], dockerHost: string): Host {
  const docker = createDockerAdapter({ dockerHost });
  return { name, dockerHost, docker, channel: createAgentChannel(docker), swarm: createSwarmManager({ dockerHost }), agentIds: [], logLines: [] };
}

/** A worker process's logger, kept in memory so the test can see which worker ran which step. */
function capturingLogger(host: Host): Logger {
  return createLogger({ level: 'info', component: `worker-${host.name}`, write: (line) => host.logLines.push(JSON.parse(line) as Record<string, unknown>) });
}

describe('two Docker engines, a worker per engine', () => {
  const config = testConfig();
  const group = `mh-${randomBytes(3).toString('hex')}`;
  const signingKey = testSigningKey();
  let engine: SecondEngine | undefined;
  let alpha: Host;
  let beta: Host;
  let client: Client;
  let closeClient: () => Promise<void>;
  let connection: NativeConnection;
  const workers: InjectorWorkers[] = [];
  const runs: Promise<void>[] = [];

  beforeAll(async () => {
    const image = await ensureAgentImage();
    engine = await startSecondEngine({ name: 'beta' });
    const defaultEngine = testDockerConnection();
    await engine.copyImageFrom(dockerodeFor(defaultEngine), image);
    alpha = hostOn('alpha', defaultEngine.dockerHost);
    beta = hostOn('beta', engine.dockerHost);

    for (const host of [alpha, beta]) {
      const started = await host.swarm.up({ count: AGENTS_PER_HOST, group, image, prefix: `${group}-${host.name}`, trustedKeys: formatTrustedKeys(trustedKeysOf(signingKey)), extraLabels: { [TEST_LABEL]: '1' } });
      host.agentIds = started.map((s) => s.agentId);
      await waitUntilReady(host.docker, started.map((s) => s.containerId));
    }

    ({ client, close: closeClient } = await testClient());
    connection = await testNativeConnection();
    // In production each host runs its own worker process (main queue + its host's queue); in one process the SDK
    // allows one worker per queue, so alpha's process also serves the main queue and beta's serves its host only.
    for (const host of [alpha, beta]) {
      const logger = capturingLogger(host);
      const injectorWorkers = await createInjectorWorkers({
        serveMainQueue: host === alpha,
        connection,
        namespace: config.temporalNamespace,
        taskQueue: config.taskQueue,
        dockerHostName: host.name,
        workflows: testWorkflowBundle(),
        injectorDeps: { logger },
        dockerDeps: { hostName: host.name, logger, docker: host.docker, channel: host.channel, sealing: testSealing(signingKey) },
      });
      workers.push(injectorWorkers);
      runs.push(injectorWorkers.run());
    }
  }, SETUP_TIMEOUT_MS);

  afterAll(async () => {
    for (const w of workers) w.shutdown();
    await Promise.allSettled(runs);
    await connection?.close();
    await closeClient?.();
    await alpha?.swarm.down({ [TEST_LABEL]: '1', [LABEL_GROUP]: group });
    // The second engine's containers go with its state directory, but remove them first so dockerd stops cleanly.
    await beta?.swarm.down({ [TEST_LABEL]: '1', [LABEL_GROUP]: group }).catch(() => 0);
    await engine?.stop();
  }, SETUP_TIMEOUT_MS);

  it('one injection over hosts alpha and beta changes every agent through its own engine, on its own queue', async () => {
    const injectionId = `multihost-${Date.now()}`;
    const input: SwarmInjectionInput = {
      injectionId,
      source: 'OPTIMIZE_THROUGHPUT {\n  MAX_PARALLEL: 4\n  CANARY: 0\n}',
      context: {},
      targets: { group },
      priority: 'medium',
      requestedBy: 'jest',
      taskQueue: config.taskQueue,
      dockerHosts: ['alpha', 'beta'],
    };
    const handle = await client.workflow.start(swarmInjectionWorkflow, {
      workflowId: injectionId,
      taskQueue: mainTaskQueue(config.taskQueue),
      args: [input],
      typedSearchAttributes: [{ key: INJECTION_ID, value: injectionId }],
    });
    const result = await handle.result();

    expect(result.status).toBe('succeeded');
    expect(result.counts.injected).toBe(2 * AGENTS_PER_HOST);

    for (const host of [alpha, beta]) {
      const hostQueue = dockerHostTaskQueue(config.taskQueue, host.name);
      for (const agentId of host.agentIds) {
        // The swarm found the agent on the host it lives on.
        expect(result.agents.find((a) => a.agentId === agentId)).toMatchObject({ outcome: 'injected', host: host.name });

        // Its CURRENT, read through its own engine, names the new program.
        const agentResult = await client.workflow.getHandle(childWorkflowId(injectionId, agentId)).result();
        const agent = await host.docker.findAgent(agentId);
        expect(agent).not.toBeNull();
        const current = await host.channel.current(agent?.containerId ?? '');
        expect(current).toMatchObject({ reloadId: injectionId, programId: agentResult.programId });

        // The agent's child ran on this host's queue, so its steps (local activities of the child) ran on a worker of
        // this host; an activity it scheduled (the trace capture of a slow agent) would have gone there too.
        const child = client.workflow.getHandle(childWorkflowId(injectionId, agentId));
        expect((await child.describe()).taskQueue).toBe(hostQueue);
        const history = await child.fetchHistory();
        const queues = (history.events ?? []).flatMap((e) => (e.activityTaskScheduledEventAttributes ? [e.activityTaskScheduledEventAttributes.taskQueue?.name] : []));
        expect(queues.every((q) => q === hostQueue)).toBe(true);
      }

      // And the worker next to this engine is the one that ran every step: its log names only its own agents, each
      // with the snapshot and the rest of the forward path (inject, reload, trace and verify in one local activity).
      const steps = host.logLines.filter((l) => l.msg === 'docker step done' && l.injectionId === injectionId && l.agentId !== undefined);
      expect([...new Set(steps.map((l) => l.agentId))].sort()).toEqual([...host.agentIds].sort());
      for (const agentId of host.agentIds) {
        expect(new Set(steps.filter((l) => l.agentId === agentId).map((l) => l.activity))).toEqual(
          new Set(['snapshotAgent', 'injectAndConfirm']),
        );
      }
      expect(steps.every((l) => l.host === host.name && l.taskQueue === hostQueue)).toBe(true);
    }
  }, INJECTION_TIMEOUT_MS);
});
