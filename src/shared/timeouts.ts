// Every timeout and retry bound the workflows and activities use, in one place, with the unit in the name.
import type { Duration } from '@temporalio/common';

export const PING_ACTIVITY_TIMEOUT: Duration = '10 seconds';

/** Compiling is CPU-only and bounded by the compiler's size limits. */
export const COMPILE_ACTIVITY_TIMEOUT: Duration = '30 seconds';
/** Listing agents by label: one Docker call per host. */
export const RESOLVE_ACTIVITY_TIMEOUT: Duration = '60 seconds';
/** One Docker call or two: read/copy a program, write a file. */
export const DOCKER_STEP_TIMEOUT: Duration = '30 seconds';
/** How often a trace capture heartbeats; a capture that stops heartbeating for HEARTBEAT_TIMEOUT is retried elsewhere. */
export const TRACE_HEARTBEAT_INTERVAL_MS = 2_000;
export const TRACE_HEARTBEAT_TIMEOUT: Duration = '15 seconds';
/**
 * How long an agent's child first waits for the trace inside a local activity (no task dispatch, no extra workflow
 * task) before it hands over to the heartbeating captureTrace activity. A local activity holds its workflow task open,
 * so signals to the child (abortAgent) wait for it: this bounds that wait.
 */
export const LOCAL_TRACE_WINDOW_MS = 2_000;
/** Added to the answer's window for injectAndConfirm's start-to-close bound: the inject step's 30 s, reload and verify. */
export const CONFIRM_STEP_SLACK_MS = 60_000;
/** Added to TRACE_TIMEOUT for the capture's own start-to-close bound. */
export const TRACE_ACTIVITY_SLACK_MS = 30_000;

/** Retry shape for Docker steps; maximumAttempts comes from the program's RETRIES (+1 for the first try). */
export const DOCKER_RETRY_INITIAL_INTERVAL: Duration = '500 milliseconds';
export const DOCKER_RETRY_MAXIMUM_INTERVAL: Duration = '10 seconds';
export const DOCKER_RETRY_BACKOFF = 2;
/** A rollback keeps trying longer than a forward step: leaving an agent changed is worse than waiting. */
export const ROLLBACK_MIN_ATTEMPTS = 5;

/** Continue-as-new before a run's history passes either bound (Temporal warns at 10,240 events and 10 MiB). */
/**
 * A run drains before it continues as new, and MAX_PARALLEL (up to 1,000) children still in flight then add about
 * 3.7 events each: 5,000 keeps the longest run under 9,000 (at 6,000 a 10,000-agent run at MAX_PARALLEL 1,000 reached
 * 9,761 of Temporal's 10,240).
 */
export const CONTINUE_AS_NEW_AFTER_EVENTS = 5_000;
export const CONTINUE_AS_NEW_AFTER_BYTES = 4 * 1024 * 1024;

/** How often a lease shard checks that the injections holding its leases still run (a terminated one releases). */
export const LEASE_HOLDER_CHECK_INTERVAL_MS = 30_000;
/** A lease shard continues as new past this many events. */
export const LEASE_SHARD_CONTINUE_AS_NEW_EVENTS = 2_000;
/** Asking the lease shards: one update per shard. */
export const LEASE_ACTIVITY_TIMEOUT: Duration = '60 seconds';
/**
 * A dry run's target lookup (resolveTargetsWorkflow): each host's listAgents, from scheduling to its answer, once (no
 * retry); the whole workflow; and how long the gateway waits for it before answering 503 WORKERS_UNAVAILABLE.
 */
export const RESOLVE_TARGETS_HOST_TIMEOUT: Duration = '5 seconds';
export const RESOLVE_TARGETS_WORKFLOW_TIMEOUT: Duration = '15 seconds';
export const RESOLVE_TARGETS_WAIT_MS = 8_000;
