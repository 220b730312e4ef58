// 10,000 agents in one injection, on the real dev server, with the in-process fleet driver (bench/fleet) standing in
// for the Docker engine: proves continue-as-new keeps every run's history under Temporal's warning limit, that the
// program travels by reference (no event carries it but its holder's start), and that a cancel at scale reverts
// every agent even when the rollback itself has to continue as new.
import { randomUUID } from 'node:crypto';
import type { Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { createFleetDriver, FleetDriver } from '../../bench/fleet/fleet-driver';
import { createLogger } from '../../src/shared/logger';
import type { SwarmInjectionInput, SwarmInjectionResult } from '../../src/shared/injection-types';
import { INJECTION_ID } from '../../src/shared/search-attributes';
import { mainTaskQueue } from '../../src/shared/task-queues';
import { createInjectorWorkers, InjectorWorkers } from '../../src/worker/worker';
import { progressQuery, programHolderWorkflowId, swarmInjectionWorkflow } from '../../workflows';
import { testClient, testConfig, testNativeConnection, testWorkflowBundle } from '../support/temporal';
import { testSealing, testSigningKey } from '../support/signing';

const AGENTS = Number(process.env.OPENCLAW_SCALE_AGENTS ?? 10_000);
const CANCEL_AGENTS = 2_000;
const HISTORY_WARNING_EVENTS = 10_240;
/** The swarm's result must stay well under the SDK's 512 KiB payload warning at 10,000 agents. */
const RESULT_BOUND_BYTES = 512 * 1024;
const TEMPORAL_PAYLOAD_LIMIT_BYTES = 2 * 1024 * 1024;
/** One workflow task's completion, all its commands, must fit in one gRPC message: 4 MiB by default. */
const MAX_TASK_BYTES = 4 * 1024 * 1024;
/** Distinct big strings behind branches no agent takes (the compiler keeps one copy of equal strings): a program near the source bound, yet few VM steps. */
const BIG_STRING_CHARS = 60_000;
const BIG_BLOCKS = 4;

function bigProgram(group: string, maxParallel: number): string {
  const blocks = Array.from({ length: BIG_BLOCKS }, (_, i) => `WHEN agent.agent_id == "nobody-${i}" {\n  SIMULATE_FAILURE { MESSAGE: "${String(i).repeat(BIG_STRING_CHARS)}" }\n}`);
  return [`OPTIMIZE_THROUGHPUT {\n  TARGET: ${group}\n  MAX_PARALLEL: ${maxParallel}\n  CANARY: 1%\n  DEADLINE: 2h\n}`, ...blocks].join('\n');
}

const EventType = temporal.api.enums.v1.EventType;
/** Events a workflow task's commands append, right after its WorkflowTaskCompleted: together, what one task sent. */
const COMMAND_EVENTS = new Set<number>([
  EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED,
  EventType.EVENT_TYPE_ACTIVITY_TASK_CANCEL_REQUESTED,
  EventType.EVENT_TYPE_TIMER_STARTED,
  EventType.EVENT_TYPE_TIMER_CANCELED,
  EventType.EVENT_TYPE_MARKER_RECORDED,
  EventType.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED,
  EventType.EVENT_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED,
  EventType.EVENT_TYPE_REQUEST_CANCEL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED,
  EventType.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES,
  EventType.EVENT_TYPE_WORKFLOW_PROPERTIES_MODIFIED,
  EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED,
  EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED,
  EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW,
  EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED,
  EventType.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED,
  EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED,
]);

interface PayloadSizes {
  /** The largest single event, in protobuf bytes (what Temporal's payload and message limits count). */
  event: number;
  /** The largest sum over the events one workflow task's commands appended. */
  task: number;
  /** Durable timers the run started (the deadline's: one per run, however many times the rollout loop waits). */
  timers: number;
  /** The run that continued this one as new, if any. */
  nextRunId: string | null;
}

/** The largest payload one event, and one workflow task's commands, of one run's history carry. */
async function payloadSizes(client: Client, workflowId: string, runId?: string): Promise<PayloadSizes> {
  const history = await client.workflow.getHandle(workflowId, runId).fetchHistory();
  const sizes: PayloadSizes = { event: 0, task: 0, timers: 0, nextRunId: null };
  let task: number | null = null;
  for (const event of history.events ?? []) {
    const bytes = temporal.api.history.v1.HistoryEvent.encode(event).finish().length;
    sizes.event = Math.max(sizes.event, bytes);
    const type = Number(event.eventType);
    if (type === EventType.EVENT_TYPE_TIMER_STARTED) sizes.timers += 1;
    if (type === EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED) task = 0;
    else if (task !== null && COMMAND_EVENTS.has(type)) task += bytes;
    else task = null;
    if (task !== null) sizes.task = Math.max(sizes.task, task);
    const next = event.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId;
    if (next) sizes.nextRunId = next;
  }
  return sizes;
}

/** The largest event and task over every run of a workflow, following its continue-as-new chain from the first run. */
async function payloadSizesOfAllRuns(client: Client, workflowId: string, firstRunId: string): Promise<{ event: number; task: number; runs: number; maxTimersPerRun: number }> {
  const all = { event: 0, task: 0, runs: 0, maxTimersPerRun: 0 };
  for (let runId: string | null = firstRunId; runId !== null; ) {
    const run = await payloadSizes(client, workflowId, runId);
    all.event = Math.max(all.event, run.event);
    all.task = Math.max(all.task, run.task);
    all.maxTimersPerRun = Math.max(all.maxTimersPerRun, run.timers);
    all.runs += 1;
    runId = run.nextRunId;
  }
  return all;
}

async function withFleet<T>(fleet: FleetDriver, fn: (client: Client, config: ReturnType<typeof testConfig>) => Promise<T>): Promise<T> {
  const config = testConfig();
  const logger = createLogger({ level: 'error', component: 'scale' });
  const connection = await testNativeConnection();
  const workers: InjectorWorkers = await createInjectorWorkers({
    connection,
    namespace: config.temporalNamespace,
    taskQueue: config.taskQueue,
    dockerHostName: config.dockerHostName,
    workflows: testWorkflowBundle(),
    injectorDeps: { logger },
    dockerDeps: { hostName: config.dockerHostName, logger, docker: fleet.docker, channel: fleet.channel, sealing: testSealing(fleet.signingKey) },
    tuning: { maxConcurrentActivityTaskExecutions: 400, maxConcurrentWorkflowTaskExecutions: 100, maxCachedWorkflows: 2_000 },
  });
  const { client, close } = await testClient();
  const running = workers.run();
  try {
    return await fn(client, config);
  } finally {
    workers.shutdown();
    await running;
    await close();
    await connection.close();
  }
}

function swarmInput(config: ReturnType<typeof testConfig>, injectionId: string, source: string, limits?: SwarmInjectionInput['limits']): SwarmInjectionInput {
  return {
    injectionId,
    source,
    context: {},
    targets: null,
    priority: 'medium',
    requestedBy: 'scale-test',
    taskQueue: config.taskQueue,
    dockerHosts: [config.dockerHostName],
    ...(limits ? { limits } : {}),
  };
}

it(`injects ${AGENTS} simulated agents with a large program at MAX_PARALLEL 1000, every run's history under ${HISTORY_WARNING_EVENTS} events`, async () => {
  const fleet = createFleetDriver({ count: AGENTS, group: 'scale', signingKey: testSigningKey() });
  await withFleet(fleet, async (client, config) => {
    const injectionId = `scale-${randomUUID()}`;
    const started = Date.now();
    const handle = await client.workflow.start(swarmInjectionWorkflow, {
      workflowId: injectionId,
      taskQueue: mainTaskQueue(config.taskQueue),
      args: [swarmInput(config, injectionId, bigProgram('scale', 1_000))],
      typedSearchAttributes: [{ key: INJECTION_ID, value: injectionId }],
    });
    const result = await handle.result();
    const seconds = (Date.now() - started) / 1000;
    const programBytes = fleet.programBytes(fleet.agentIds()[0]);
    const holder = await payloadSizes(client, programHolderWorkflowId(injectionId));
    const child = await payloadSizes(client, `${injectionId}/${fleet.agentIds()[0]}`);
    const swarm = await payloadSizesOfAllRuns(client, injectionId, handle.firstExecutionRunId);
    const largest = { holder: holder.event, swarm: swarm.event, child: child.event };
    const largestTask = { holder: holder.task, swarm: swarm.task, child: child.task };
    const resultBytes = Buffer.byteLength(JSON.stringify(result));
    console.log(JSON.stringify({ scale: AGENTS, seconds, agentsPerSecond: AGENTS / seconds, runs: result.runs, historyEventsPerRun: result.historyEventsPerRun, programBytes, largestEventBytes: largest, largestTaskBytes: largestTask, swarmRunsMeasured: swarm.runs, resultBytes }));
    expect(result.status).toBe('succeeded');
    expect(result.counts).toMatchObject({ total: AGENTS, injected: AGENTS, failed: 0 });
    expect(result.runs).toBe(result.historyEventsPerRun.length);
    expect(Math.max(...result.historyEventsPerRun)).toBeLessThan(HISTORY_WARNING_EVENTS);
    expect(resultBytes).toBeLessThan(RESULT_BOUND_BYTES);
    // One copy of the program, in its holder: no swarm or child event carries it.
    expect(programBytes).toBeGreaterThan(BIG_BLOCKS * BIG_STRING_CHARS);
    expect(largest.holder).toBeGreaterThan(programBytes);
    expect(largest.child).toBeLessThan(programBytes);
    expect(largestTask.child).toBeLessThan(programBytes);
    // Up to 1,000 children start in one task, each with the program's reference only (about 1 KB per start).
    expect(largestTask.swarm).toBeLessThan(MAX_TASK_BYTES);
    expect(swarm.runs).toBe(result.runs);
    // The DEADLINE is one durable timer per run, not one per wait of the rollout loop (thousands of waits here).
    expect(swarm.maxTimersPerRun).toBe(1);
    // The swarm's largest event is the continue-as-new input (10,000 compact rows), under Temporal's 2 MB limit.
    expect(largest.swarm).toBeLessThan(TEMPORAL_PAYLOAD_LIMIT_BYTES);
    // Every row pages through the progress query of the closed injection.
    const lastPage = await client.workflow.getHandle(injectionId).query(progressQuery, { offset: AGENTS - 10, limit: 500 });
    expect(lastPage.agents.items).toHaveLength(10);
    for (const agentId of fleet.agentIds()) {
      expect(fleet.reloadsActedOn(agentId)).toBe(1);
      expect(fleet.current(agentId)?.programId).toBe(injectionId);
    }
  });
}, 1_800_000);

it(`a cancel of ${CANCEL_AGENTS} agents mid-rollout reverts every one, though the rollback continues as new`, async () => {
  const fleet = createFleetDriver({ count: CANCEL_AGENTS, group: 'cancel', signingKey: testSigningKey() });
  await withFleet(fleet, async (client, config) => {
    const injectionId = `scale-cancel-${randomUUID()}`;
    const handle = await client.workflow.start(swarmInjectionWorkflow, {
      workflowId: injectionId,
      taskQueue: mainTaskQueue(config.taskQueue),
      args: [swarmInput(config, injectionId, 'OPTIMIZE_THROUGHPUT {\n  TARGET: cancel\n  MAX_PARALLEL: 100\n  CANARY: 0\n}', { continueAsNewAfterEvents: 1_000 })],
      typedSearchAttributes: [{ key: INJECTION_ID, value: injectionId }],
    });
    const deadline = Date.now() + 600_000;
    for (;;) {
      const progress = await handle.query(progressQuery, { limit: 1 });
      if (progress.counts.injected >= CANCEL_AGENTS / 2) break;
      if (Date.now() > deadline) throw new Error(`never reached ${CANCEL_AGENTS / 2} injected`);
      await new Promise((r) => setTimeout(r, 200));
    }
    await handle.cancel();
    // The run that took the cancel re-raises it; a run after a continue-as-new ends with the status 'cancelled'.
    const result = await client.workflow
      .getHandle<typeof swarmInjectionWorkflow>(injectionId)
      .result()
      .then(
        (r: SwarmInjectionResult) => r,
        () => null,
      );
    const final = await client.workflow.getHandle(injectionId).query(progressQuery, { limit: 1 });
    console.log(JSON.stringify({ cancelAtScale: CANCEL_AGENTS, runs: final.run, status: result?.status ?? 'CANCELLED', counts: final.counts }));
    expect(final.run).toBeGreaterThan(1);
    expect(final.counts.injected).toBe(0);
    expect(final.counts.reverting + final.counts.running + final.counts.pending).toBe(0);
    for (const agentId of fleet.agentIds()) expect(fleet.current(agentId)?.programId ?? null).toBeNull();
  });
}, 1_800_000);
