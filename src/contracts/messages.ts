// Every Temporal message the injector's workflows take (signals, queries, updates), with their argument types: what
// the gateway, the CLI, the activities and `temporal workflow signal|query|update` send. Definitions only, no workflow
// code runs from here (defineSignal and the like only name a message). Imports nothing of the app.
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { OperatorAction, ProgressPage, SwarmProgress } from './swarm-progress';

// The swarm injection, steered by operators.
export const pauseSignal = defineSignal<[action?: OperatorAction]>('pause');
export const resumeSignal = defineSignal<[action?: OperatorAction]>('resume');
/** The reason comes first, so `temporal workflow signal --name abort --input '"reason"'` keeps working. */
export const abortSignal = defineSignal<[reason?: string, action?: OperatorAction]>('abort');
export const setMaxParallelUpdate = defineUpdate<number, [number, OperatorAction?]>('setMaxParallel');
export const progressQuery = defineQuery<SwarmProgress, [page?: ProgressPage]>('progress');

// One agent's injection child, told by its swarm.
/** Sent by the swarm workflow (deadline, failure budget, abort): stop now and roll this agent back. */
export const abortAgentSignal = defineSignal<[reason: string]>('abortAgent');

// The lease shards (per-agent exclusivity).
export interface LeaseRequest {
  /** The injection (workflow id) that asks; it is told of later grants by the leasesGranted signal. */
  holder: string;
  agentIds: string[];
  /** 'wait': grant the free ones, queue the rest; 'refuse': grant nothing if any is held by another injection. */
  mode: 'wait' | 'refuse';
}

export interface LeaseAnswer {
  granted: string[];
  /** Held by another injection: queued ('wait') or refused ('refuse'). */
  busy: { agentId: string; holder: string }[];
}

export interface LeaseRelease {
  holder: string;
  /** Absent: every lease and queued request of this holder. */
  agentIds?: string[];
}

export const acquireLeasesUpdate = defineUpdate<LeaseAnswer, [LeaseRequest]>('acquireLeases');
export const releaseLeasesSignal = defineSignal<[LeaseRelease]>('releaseLeases');
/** Sent by a shard to a waiting holder. */
export const leasesGrantedSignal = defineSignal<[{ agentIds: string[] }]>('leasesGranted');
export const leasesQuery = defineQuery<{ held: Record<string, string>; queued: Record<string, string[]> }>('leases');

// An injection's program holder (programs by reference).
export const programQuery = defineQuery<Uint8Array>('program');
export const releaseProgramSignal = defineSignal('releaseProgram');
