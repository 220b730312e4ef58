// The swarm injection's messages (signals, queries, updates) and their bounds: what the gateway, the CLI and
// `temporal workflow signal|query|update` send. Definitions only: no workflow code runs from here.
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { OperatorAction, SwarmProgress } from '../src/shared/injection-types';

export const MAX_PARALLEL_LIMIT = 1_000;
export const PROGRESS_PAGE_LIMIT = 500;
export const ERROR_TEXT_LIMIT_CHARS = 300;

export const pauseSignal = defineSignal<[action?: OperatorAction]>('pause');
export const resumeSignal = defineSignal<[action?: OperatorAction]>('resume');
/** The reason comes first, so `temporal workflow signal --name abort --input '"reason"'` keeps working. */
export const abortSignal = defineSignal<[reason?: string, action?: OperatorAction]>('abort');
export const setMaxParallelUpdate = defineUpdate<number, [number, OperatorAction?]>('setMaxParallel');
export const progressQuery = defineQuery<SwarmProgress, [page?: { offset?: number; limit?: number }]>('progress');
