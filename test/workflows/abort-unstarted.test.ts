// Issue 12, problem 4: an abort that reaches an agent's child before the child has started (its start still pending
// on the server, or started but before its first workflow task ran) must still stop it: the agent is never injected,
// and its row says the injection stopped before a change, not "injected, then reverted". On the real dev server, with
// the in-process fleet (bench/fleet) standing in for the agents; the child workflows get no worker until the abort
// is in every child's history, so none of them can have done anything before it arrived.
import type { Client } from '@temporalio/client';
import type { NativeConnection } from '@temporalio/worker';
import { Worker } from '@temporalio/worker';
import { createDockerActivities } from '../../activities';
import { createFleetDriver } from '../../bench/fleet/fleet-driver';
import { createLogger } from '../../src/shared/logger';
import { INJECTION_ID } from '../../src/shared/search-attributes';
import { dockerHostTaskQueue, mainTaskQueue } from '../../src/shared/task-queues';
import { createProgramSource } from '../../src/worker/program-source';
import { createInjectorWorkers, InjectorWorkers } from '../../src/worker/worker';
import { abortSignal, agentInjectionWorkflow, progressQuery, swarmInjectionWorkflow } from '../../workflows';
import { waitUntil } from '../support/faults';
import { testSealing, testSigningKey } from '../support/signing';
import { testClient, testConfig, testNativeConnection, testWorkflowBundle } from '../support/temporal';

/** Launched in one workflow task: their starts take the server long enough that the abort lands among them. */
const AGENTS = 200;

let connection: NativeConnection;
let client: Client;
let closeClient: () => Promise<void>;
let mainWorkers: InjectorWorkers;
let mainRunning: Promise<void>;

beforeAll(async () => {
  connection = await testNativeConnection();
  ({ client, close: closeClient } = await testClient());
});

afterAll(async () => {
  mainWorkers?.shutdown();
  await mainRunning;
  await closeClient?.();
  await connection?.close();
});

/** The event ids at which the parent's history records the abort, and each child's start. */
async function parentTimeline(injectionId: string): Promise<{ abortAt: number; startedAt: Map<string, number> }> {
  const history = await client.workflow.getHandle(injectionId).fetchHistory();
  let abortAt = Number.POSITIVE_INFINITY;
  const startedAt = new Map<string, number>();
  for (const event of history.events ?? []) {
    const id = Number(event.eventId);
    if (event.workflowExecutionSignaledEventAttributes?.signalName === abortSignal.name) abortAt = Math.min(abortAt, id);
    const started = event.childWorkflowExecutionStartedEventAttributes;
    if (started?.workflowExecution?.workflowId) startedAt.set(started.workflowExecution.workflowId, id);
  }
  return { abortAt, startedAt };
}

/** True when the child's history holds the abortAgent signal and no workflow task of it has run yet. */
async function abortWaitsInChild(workflowId: string): Promise<boolean> {
  const history = await client.workflow.getHandle(workflowId).fetchHistory();
  const events = history.events ?? [];
  if (events.some((e) => e.workflowTaskStartedEventAttributes)) throw new Error(`${workflowId} ran a workflow task before the test gave it a worker`);
  return events.some((e) => e.workflowExecutionSignaledEventAttributes?.signalName === 'abortAgent');
}

it(`an abort that reaches ${AGENTS} children before they start injects none of them`, async () => {
  const config = testConfig();
  const logger = createLogger({ level: 'error', component: 'abort-unstarted' });
  const signingKey = testSigningKey('unstarted');
  const fleet = createFleetDriver({ count: AGENTS, group: 'unstarted', signingKey });
  const activities = createDockerActivities({ hostName: config.dockerHostName, logger, docker: fleet.docker, channel: fleet.channel, sealing: testSealing(signingKey), programs: createProgramSource(client) });
  const injectProgram = jest.fn(activities.injectProgram);
  const injectAndConfirm = jest.fn(activities.injectAndConfirm);
  const snapshotAgent = jest.fn(activities.snapshotAgent);
  const dockerActivities = { ...activities, injectProgram, injectAndConfirm, snapshotAgent };
  const dockerQueue = dockerHostTaskQueue(config.taskQueue, config.dockerHostName);

  // The main queue (swarm, compile, leases) is served throughout; the host queue first only for its activities
  // (resolving targets), so the children it gets sit unstarted.
  mainWorkers = await createInjectorWorkers({ connection, namespace: config.temporalNamespace, taskQueue: config.taskQueue, dockerHostName: config.dockerHostName, workflows: testWorkflowBundle(), injectorDeps: { logger } });
  mainRunning = mainWorkers.run();
  const activityOnly = await Worker.create({ connection, namespace: config.temporalNamespace, taskQueue: dockerQueue, activities: dockerActivities });
  const activityOnlyRunning = activityOnly.run();

  const injectionId = `unstarted-${Date.now()}`;
  const handle = await client.workflow.start(swarmInjectionWorkflow, {
    workflowId: injectionId,
    taskQueue: mainTaskQueue(config.taskQueue),
    typedSearchAttributes: [{ key: INJECTION_ID, value: injectionId }],
    args: [
      {
        injectionId,
        source: `OPTIMIZE_THROUGHPUT {\n  TARGET: unstarted\n  MAX_PARALLEL: ${AGENTS}\n  CANARY: 0\n}`,
        context: {},
        targets: null,
        priority: 'medium',
        requestedBy: 'jest',
        taskQueue: config.taskQueue,
        dockerHosts: [config.dockerHostName],
      },
    ],
  });
  // The abort goes out the moment the swarm has launched its children, while the server is still starting them.
  await waitUntil(async () => (await handle.query(progressQuery)).counts.running > 0, 'the children launched', 60_000);
  await handle.signal(abortSignal, 'abort at once', { by: 'jest' });

  // Every launched child, started before the abort or after it, must hold the abort before it has run at all.
  const launched = await waitUntil(async () => {
    const { abortAt, startedAt } = await parentTimeline(injectionId);
    const progress = await handle.query(progressQuery, { limit: 500 });
    const pendingStarts = progress.agents.items.filter((row) => row.outcome === 'running').length;
    return abortAt < Number.POSITIVE_INFINITY && startedAt.size === pendingStarts ? { abortAt, startedAt } : undefined;
  }, 'every launched child started', 60_000);
  for (const workflowId of launched.startedAt.keys()) await waitUntil(() => abortWaitsInChild(workflowId), `the abort in ${workflowId}'s history`, 30_000);

  // Only now do the children get a worker.
  activityOnly.shutdown();
  await activityOnlyRunning;
  const childWorker = await Worker.create({ connection, namespace: config.temporalNamespace, taskQueue: dockerQueue, workflowBundle: { codePath: testWorkflowBundle().bundlePath }, activities: dockerActivities });
  const result = await childWorker.runUntil(handle.result());

  const startedAfterAbort = [...launched.startedAt.values()].filter((eventId) => eventId > launched.abortAt).length;
  expect({
    status: result.status,
    injected: result.counts.injected,
    reverted: result.counts.reverted,
    injectCalls: injectProgram.mock.calls.length + injectAndConfirm.mock.calls.length,
    snapshotCalls: snapshotAgent.mock.calls.length,
    agentsActedOnTheReload: fleet.agentIds().filter((agentId) => fleet.reloadsActedOn(agentId) > 0 || fleet.current(agentId) !== null),
  }).toEqual({ status: 'aborted', injected: 0, reverted: 0, injectCalls: 0, snapshotCalls: 0, agentsActedOnTheReload: [] });
  // The case this test is about happened: some children were not started yet when the abort came (their start
  // followed it in the parent's history), and every launched child stopped before it changed its agent.
  expect(launched.startedAt.size).toBeGreaterThan(0);
  expect(startedAfterAbort).toBeGreaterThan(0);
  const rows = (await handle.query(progressQuery, { limit: 500 })).agents.items;
  expect(rows).toHaveLength(AGENTS);
  for (const row of rows) expect(row.outcome === 'skipped' || (row.outcome === 'failed' && row.error === 'ABORTED')).toBe(true);
  for (const workflowId of launched.startedAt.keys()) {
    const child = await client.workflow.getHandle<typeof agentInjectionWorkflow>(workflowId).result();
    // The snapshot step is timed though the abort cancelled it before it was scheduled (snapshotAgent never ran).
    expect({ outcome: child.outcome, error: child.error?.code, reachedInject: child.timings.some((t) => t.step === 'inject') }).toEqual({ outcome: 'failed', error: 'ABORTED', reachedInject: false });
  }
}, 240_000);
