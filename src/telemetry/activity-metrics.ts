// Activity inbound interceptor: each step's latency, retries, rollbacks and leases, on the SDK's metric meter
// (the worker's one Prometheus endpoint). Activities themselves carry no metrics code.
import type { Context } from '@temporalio/activity';
import type { ActivityInterceptors } from '@temporalio/worker';
import { LEASES_BUSY_METRIC, LEASES_GRANTED_METRIC, ROLLBACK_STEPS, ROLLBACKS_METRIC, STEP_DURATION_METRIC, STEP_RETRIES_METRIC } from './metric-names';

/** The lease activity's answer, read for its counts only. */
function leaseCounts(result: unknown): { granted: number; busy: number } | null {
  if (typeof result !== 'object' || result === null) return null;
  const { granted, busy } = result as { granted?: unknown; busy?: unknown };
  return Array.isArray(granted) && Array.isArray(busy) ? { granted: granted.length, busy: busy.length } : null;
}

export function activityMetricsInterceptor(ctx: Context): ActivityInterceptors {
  const step = ctx.info.activityType;
  const meter = ctx.metricMeter.withTags({ step });
  return {
    inbound: {
      async execute(input, next) {
        if (ctx.info.attempt > 1) meter.createCounter(STEP_RETRIES_METRIC, '1', 'activity attempts after the first').add(1);
        const startedAt = process.hrtime.bigint();
        let result: 'ok' | 'error' = 'error';
        try {
          const value = await next(input);
          result = 'ok';
          if (step === 'acquireLeases') {
            const counts = leaseCounts(value);
            if (counts) {
              meter.createCounter(LEASES_GRANTED_METRIC, '1', 'agent leases granted').add(counts.granted);
              meter.createCounter(LEASES_BUSY_METRIC, '1', 'agents refused: leased by another injection').add(counts.busy);
            }
          }
          return value;
        } finally {
          const seconds = Number(process.hrtime.bigint() - startedAt) / 1e9;
          meter.createHistogram(STEP_DURATION_METRIC, 'float', 's', 'seconds one activity attempt took').record(seconds, { result });
          if (ROLLBACK_STEPS.includes(step)) meter.createCounter(ROLLBACKS_METRIC, '1', 'rollback attempts').add(1, { result });
        }
      },
    },
  };
}
