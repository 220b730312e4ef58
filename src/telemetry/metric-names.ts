// The injector's own metric names and labels, in one place: the interceptors register them, the dashboard queries them.

/** Seconds one activity attempt took, labelled by step (the activity type) and result (ok|error). */
export const STEP_DURATION_METRIC = 'openclaw_step_duration_seconds';
/** Activity attempts after the first, labelled by step. */
export const STEP_RETRIES_METRIC = 'openclaw_step_retries';
/** Per-agent child workflows finished, labelled by outcome (injected, rolled-back, failed, ...). */
export const AGENT_OUTCOMES_METRIC = 'openclaw_agent_outcomes';
/** Rollback attempts (rollbackAgent and undoUnrecordedSteps activities), labelled by result. */
export const ROLLBACKS_METRIC = 'openclaw_rollbacks';
/** Agent leases granted to injections, and agents refused because another injection held them. */
export const LEASES_GRANTED_METRIC = 'openclaw_leases_granted';
export const LEASES_BUSY_METRIC = 'openclaw_leases_busy';

/** Activity types that undo an agent's change. */
export const ROLLBACK_STEPS: readonly string[] = ['rollbackAgent', 'undoUnrecordedSteps'];

/** Every metric the injector registers, as Prometheus exposes it (counters carry the `_total` suffix). */
export const INJECTOR_METRICS_EXPOSED: readonly string[] = [
  `${STEP_DURATION_METRIC}_bucket`,
  `${STEP_DURATION_METRIC}_sum`,
  `${STEP_DURATION_METRIC}_count`,
  `${STEP_RETRIES_METRIC}_total`,
  `${AGENT_OUTCOMES_METRIC}_total`,
  `${ROLLBACKS_METRIC}_total`,
  `${LEASES_GRANTED_METRIC}_total`,
  `${LEASES_BUSY_METRIC}_total`,
];

/** The Temporal SDK's own metrics the dashboard reads (the worker process test sees each on a live endpoint). */
export const SDK_METRICS_USED: readonly string[] = ['temporal_activity_schedule_to_start_latency_bucket', 'temporal_worker_task_slots_available'];

/** Labels the injector's metrics carry, beside the SDK's own (namespace, taskQueue, activityType, workflowType). */
export const INJECTOR_METRIC_LABELS: readonly string[] = ['step', 'result', 'outcome', 'namespace', 'taskQueue', 'activityType', 'workflowType'];
