// The gateway's Prometheus metrics: injection counters and a per-agent step latency histogram, rendered as text format 0.0.4.
import type { StepTiming, SwarmStatus } from '../shared/injection-types';

/** Upper bounds of the step latency buckets, in seconds: Docker calls take milliseconds, trace captures up to minutes. */
export const STEP_LATENCY_BUCKETS_SECONDS: readonly number[] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];

/** Final swarm statuses that mean the rollout was stopped and the swarm rolled back. */
const ROLLED_BACK_STATUSES: ReadonlySet<SwarmStatus> = new Set(['canary-failed', 'failure-budget-exceeded', 'deadline-exceeded', 'aborted', 'cancelled']);

export type InjectionEnd = SwarmStatus | 'failed';

interface Histogram {
  counts: number[];
  sum: number;
  count: number;
}

export interface GatewayMetrics {
  injectionStarted(): void;
  /** One finished injection, by its final status: succeeded, rolled back, or failed (anything else). */
  injectionFinished(status: InjectionEnd): void;
  agentSteps(timings: readonly StepTiming[]): void;
  render(): string;
}

export function createGatewayMetrics(): GatewayMetrics {
  const counters = { started: 0, succeeded: 0, failed: 0, rolledBack: 0 };
  const steps = new Map<string, Histogram>();

  const observe = (step: string, seconds: number) => {
    let h = steps.get(step);
    if (!h) {
      h = { counts: STEP_LATENCY_BUCKETS_SECONDS.map(() => 0), sum: 0, count: 0 };
      steps.set(step, h);
    }
    STEP_LATENCY_BUCKETS_SECONDS.forEach((bound, i) => {
      if (seconds <= bound) h.counts[i]++;
    });
    h.sum += seconds;
    h.count++;
  };

  return {
    injectionStarted: () => {
      counters.started++;
    },
    injectionFinished: (status) => {
      if (status === 'succeeded') counters.succeeded++;
      else if (status !== 'failed' && ROLLED_BACK_STATUSES.has(status)) counters.rolledBack++;
      else counters.failed++;
    },
    agentSteps: (timings) => {
      for (const t of timings) if (Number.isFinite(t.ms) && t.ms >= 0) observe(t.step, t.ms / 1000);
    },
    render: () => {
      const lines: string[] = [];
      const counter = (name: string, help: string, value: number) => lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} counter`, `${name} ${value}`);
      counter('openclaw_injections_started_total', 'Injections this gateway started (idempotent repeats not counted).', counters.started);
      counter('openclaw_injections_succeeded_total', 'Injections this gateway saw end with every agent injected.', counters.succeeded);
      counter('openclaw_injections_failed_total', 'Injections this gateway saw end with failed agents, a compile failure, or a workflow failure.', counters.failed);
      counter('openclaw_injections_rolled_back_total', 'Injections this gateway saw stopped and rolled back (canary, budget, deadline, abort, cancel).', counters.rolledBack);
      const name = 'openclaw_agent_step_duration_seconds';
      lines.push(`# HELP ${name} Per-agent injection step latency, from the agent results of injections this gateway observed.`, `# TYPE ${name} histogram`);
      for (const [step, h] of [...steps.entries()].sort(([a], [b]) => a.localeCompare(b))) {
        STEP_LATENCY_BUCKETS_SECONDS.forEach((bound, i) => lines.push(`${name}_bucket{step="${step}",le="${bound}"} ${h.counts[i]}`));
        lines.push(`${name}_bucket{step="${step}",le="+Inf"} ${h.count}`, `${name}_sum{step="${step}"} ${h.sum}`, `${name}_count{step="${step}"} ${h.count}`);
      }
      return lines.join('\n') + '\n';
    },
  };
}
