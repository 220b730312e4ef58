// Activity inbound interceptor: each step's latency, retries, rollbacks and leases, on the SDK runtime's metric meter
// (the worker's one Prometheus endpoint). Activities themselves carry no metrics code.
import type { Context } from '@temporalio/activity';
import type { MetricCounter, MetricHistogram, MetricMeter, MetricTags } from '@temporalio/common';
import { ActivityInterceptors, Runtime } from '@temporalio/worker';
import { LEASES_BUSY_METRIC, LEASES_GRANTED_METRIC, ROLLBACK_STEPS, ROLLBACKS_METRIC, STEP_DURATION_METRIC, STEP_RETRIES_METRIC } from './metric-names';

interface Instruments {
  duration: MetricHistogram;
  retries: MetricCounter;
  rollbacks: MetricCounter;
  leasesGranted: MetricCounter;
  leasesBusy: MetricCounter;
}

/**
 * Created once per process and meter: each creation is a native call, and the interceptor runs on every activity
 * attempt. The tags the SDK's activity meter would add (namespace, taskQueue, activityType) are given per record.
 */
const instrumentsByMeter = new WeakMap<MetricMeter, Instruments>();

function instrumentsOf(meter: MetricMeter): Instruments {
  let instruments = instrumentsByMeter.get(meter);
  if (!instruments) {
    instruments = {
      duration: meter.createHistogram(STEP_DURATION_METRIC, 'float', 's', 'seconds one activity attempt took'),
      retries: meter.createCounter(STEP_RETRIES_METRIC, '1', 'activity attempts after the first'),
      rollbacks: meter.createCounter(ROLLBACKS_METRIC, '1', 'rollback attempts'),
      leasesGranted: meter.createCounter(LEASES_GRANTED_METRIC, '1', 'agent leases granted'),
      leasesBusy: meter.createCounter(LEASES_BUSY_METRIC, '1', 'agents refused: leased by another injection'),
    };
    instrumentsByMeter.set(meter, instruments);
  }
  return instruments;
}

/** The lease activity's answer, read for its counts only. */
function leaseCounts(result: unknown): { granted: number; busy: number } | null {
  if (typeof result !== 'object' || result === null) return null;
  const { granted, busy } = result as { granted?: unknown; busy?: unknown };
  return Array.isArray(granted) && Array.isArray(busy) ? { granted: granted.length, busy: busy.length } : null;
}

/** The forward path's one local activity, and the step each of its timings stands for (the activities it replaced). */
const CONFIRM_ACTIVITY = 'injectAndConfirm';
const CONFIRM_STEP_NAMES: Readonly<Record<string, string>> = { inject: 'injectProgram', reload: 'reloadAgent', trace: 'captureTraceBriefly', verify: 'verifyInjection' };

/**
 * injectAndConfirm's steps, each recorded under the step name it had as an activity of its own, so the histogram per
 * step (and the dashboard over it) reads the same for children of either shape. verify failed when the answer
 * carried a failure.
 */
function recordConfirmSteps(duration: MetricHistogram, tags: MetricTags, result: unknown): void {
  if (typeof result !== 'object' || result === null) return;
  const { timings, failure } = result as { timings?: unknown; failure?: unknown };
  if (!Array.isArray(timings)) return;
  for (const timing of timings as Array<{ step?: unknown; ms?: unknown }>) {
    const step = typeof timing.step === 'string' ? CONFIRM_STEP_NAMES[timing.step] : undefined;
    if (!step || typeof timing.ms !== 'number') continue;
    duration.record(timing.ms / 1000, { ...tags, step, result: step === 'verifyInjection' && failure ? 'error' : 'ok' });
  }
}

export function activityMetricsInterceptor(ctx: Context): ActivityInterceptors {
  const step = ctx.info.activityType;
  const metrics = instrumentsOf(Runtime.instance().metricMeter);
  const tags: MetricTags = { namespace: ctx.info.activityNamespace, taskQueue: ctx.info.taskQueue, activityType: step, step };
  return {
    inbound: {
      async execute(input, next) {
        if (ctx.info.attempt > 1) metrics.retries.add(1, tags);
        const startedAt = process.hrtime.bigint();
        let result: 'ok' | 'error' = 'error';
        try {
          const value = await next(input);
          result = 'ok';
          if (step === CONFIRM_ACTIVITY) recordConfirmSteps(metrics.duration, tags, value);
          if (step === 'acquireLeases') {
            const counts = leaseCounts(value);
            if (counts) {
              metrics.leasesGranted.add(counts.granted, tags);
              metrics.leasesBusy.add(counts.busy, tags);
            }
          }
          return value;
        } finally {
          const seconds = Number(process.hrtime.bigint() - startedAt) / 1e9;
          metrics.duration.record(seconds, { ...tags, result });
          if (ROLLBACK_STEPS.includes(step)) metrics.rollbacks.add(1, { ...tags, result });
        }
      },
    },
  };
}
