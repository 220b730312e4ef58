// 10,000 agents in one injection, on the real dev server, with the in-process fleet driver (bench/fleet) standing in
// for the Docker engine: proves continue-as-new keeps every run's history under Temporal's warning limit.
import { randomUUID } from 'node:crypto';
import { createFleetDriver } from '../../bench/fleet/fleet-driver';
import { createLogger } from '../../src/shared/logger';
import type { SwarmInjectionInput } from '../../src/shared/injection-types';
import { INJECTION_ID } from '../../src/shared/search-attributes';
import { mainTaskQueue } from '../../src/shared/task-queues';
import { createInjectorWorkers } from '../../src/worker/worker';
import { swarmInjectionWorkflow } from '../../workflows';
import { testClient, testConfig, testNativeConnection, testWorkflowBundle } from '../support/temporal';
import { testSealing, testSigningKey } from '../support/signing';

const AGENTS = Number(process.env.OPENCLAW_SCALE_AGENTS ?? 10_000);
const HISTORY_WARNING_EVENTS = 10_240;

it(`injects ${AGENTS} simulated agents in one injection, every run's history under ${HISTORY_WARNING_EVENTS} events`, async () => {
  const signingKey = testSigningKey();
  const fleet = createFleetDriver({ count: AGENTS, group: 'scale', signingKey });
  const config = testConfig();
  const logger = createLogger({ level: 'error', component: 'scale' });
  const connection = await testNativeConnection();
  const workers = await createInjectorWorkers({
    connection,
    namespace: config.temporalNamespace,
    taskQueue: config.taskQueue,
    dockerHostName: config.dockerHostName,
    workflows: testWorkflowBundle(),
    injectorDeps: { logger },
    dockerDeps: { hostName: config.dockerHostName, logger, docker: fleet.docker, channel: fleet.channel, sealing: testSealing(signingKey) },
    tuning: { maxConcurrentActivityTaskExecutions: 400, maxConcurrentWorkflowTaskExecutions: 100, maxCachedWorkflows: 2_000 },
  });
  const { client, close } = await testClient();
  const running = workers.run();
  try {
    const injectionId = `scale-${randomUUID()}`;
    const input: SwarmInjectionInput = {
      injectionId,
      source: 'OPTIMIZE_THROUGHPUT {\n  TARGET: scale\n  MAX_PARALLEL: 500\n  CANARY: 1%\n  DEADLINE: 2h\n}',
      context: {},
      targets: null,
      priority: 'medium',
      requestedBy: 'scale-test',
      taskQueue: config.taskQueue,
      dockerHosts: [config.dockerHostName],
    };
    const started = Date.now();
    const result = await client.workflow.execute(swarmInjectionWorkflow, {
      workflowId: injectionId,
      taskQueue: mainTaskQueue(config.taskQueue),
      args: [input],
      typedSearchAttributes: [{ key: INJECTION_ID, value: injectionId }],
    });
    const seconds = (Date.now() - started) / 1000;
    console.log(JSON.stringify({ scale: AGENTS, seconds, agentsPerSecond: AGENTS / seconds, runs: result.runs, historyEventsPerRun: result.historyEventsPerRun }));
    expect(result.status).toBe('succeeded');
    expect(result.counts).toMatchObject({ total: AGENTS, injected: AGENTS, failed: 0 });
    expect(result.runs).toBe(result.historyEventsPerRun.length);
    expect(Math.max(...result.historyEventsPerRun)).toBeLessThan(HISTORY_WARNING_EVENTS);
    for (const agentId of fleet.agentIds()) {
      expect(fleet.reloadsActedOn(agentId)).toBe(1);
      expect(fleet.current(agentId)?.programId).toBe(injectionId);
    }
  } finally {
    workers.shutdown();
    await running;
    await close();
    await connection.close();
  }
}, 1_800_000);
