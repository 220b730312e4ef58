// Runs the Temporal floor (floor-workflows.ts) once: a worker of its own on a fresh task queue, the same slots as the
// workers it is compared with, one fan-out of `agents` children, `maxParallel` at a time.
import { randomBytes, randomUUID } from 'node:crypto';
import type { Client } from '@temporalio/client';
import { NativeConnection, Worker, WorkerOptions } from '@temporalio/worker';
import { createFloorActivities } from './floor-activities';
import type { floorFanOutWorkflow } from './floor-workflows';

const FLOOR_WORKFLOWS_PATH = require.resolve('./floor-workflows');
const FLOOR_TIMEOUT_MS = 30 * 60_000;

export interface FloorRun {
  agents: number;
  maxParallel: number;
  /** No-op local activities per child, one after another: the injector's child runs five on its forward path. */
  localSteps: number;
  /** Children carry the injector's search attributes and upsert their status once (FloorInput.searchAttributes). */
  searchAttributes?: boolean;
  /** The Temporal namespace; `default` when absent. */
  namespace?: string;
  tuning: Pick<WorkerOptions, 'maxConcurrentActivityTaskExecutions' | 'maxConcurrentWorkflowTaskExecutions' | 'maxConcurrentLocalActivityExecutions' | 'maxCachedWorkflows'>;
}

/**
 * Runs the fan-out; `measure` wraps only the fan-out itself (the worker is created and bundled before it starts).
 * Resolves with the seconds the fan-out took.
 */
export async function runFloor(connection: NativeConnection, client: Client, run: FloorRun, measure: { start(): void; stop(): void } = { start() {}, stop() {} }): Promise<number> {
  const taskQueue = `floor-${randomBytes(4).toString('hex')}`;
  const worker = await Worker.create({ connection, namespace: run.namespace ?? 'default', taskQueue, workflowsPath: FLOOR_WORKFLOWS_PATH, activities: createFloorActivities(), ...run.tuning });
  const running = worker.run();
  try {
    measure.start();
    const started = performance.now();
    await client.workflow.execute<typeof floorFanOutWorkflow>('floorFanOutWorkflow', {
      workflowId: `floor-${randomUUID()}`,
      taskQueue,
      args: [{ agents: run.agents, maxParallel: run.maxParallel, from: 0, localSteps: run.localSteps, searchAttributes: run.searchAttributes ?? false }],
      workflowExecutionTimeout: FLOOR_TIMEOUT_MS,
    });
    const seconds = (performance.now() - started) / 1000;
    measure.stop();
    return seconds;
  } finally {
    worker.shutdown();
    await running;
  }
}
