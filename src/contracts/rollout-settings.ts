// The rollout settings a program's header sets (docs/dsl.md): what the compiler produces and the swarm's progress reports. Imports nothing of the app.

export type Share = { kind: 'count'; value: number } | { kind: 'percent'; value: number };

export interface RolloutSettings {
  target: string | null;
  deadlineMs: number;
  maxParallel: number;
  maxFailures: Share;
  canary: Share;
  retries: number;
  traceTimeoutMs: number;
}
