// Bench plumbing: a registry entry shape and a timer that measures a subject and its baseline in the same run.

export interface BenchCase {
  /** e.g. "typical program (312 B)". */
  name: string;
  /** What one operation does, for the table; the figure reported is the ratio subject/baseline. */
  subject: () => unknown;
  baseline: () => unknown;
  /** Optional floor for the subject's own rate, e.g. the 5,000 programs/s. */
  targetOpsPerSec?: number;
}

export interface Bench {
  name: string;
  /** The baseline, said plainly: it is printed with the results. */
  baseline: string;
  cases(): BenchCase[];
}

export interface Measurement {
  bench: string;
  case: string;
  baseline: string;
  opsPerSec: number;
  baselineOpsPerSec: number;
  /** subject ops/s divided by baseline ops/s: above 1 means faster than the baseline. */
  ratio: number;
  targetOpsPerSec: number | null;
  meetsTarget: boolean | null;
}

/** How long each side of a case is timed, after a warm-up of the same length / 4. */
export const MEASURE_MS = 1_000;

function opsPerSecond(fn: () => unknown, ms: number): number {
  const warmUntil = performance.now() + ms / 4;
  while (performance.now() < warmUntil) fn();
  let ops = 0;
  const start = performance.now();
  let now = start;
  while (now - start < ms) {
    fn();
    ops++;
    now = performance.now();
  }
  return (ops * 1000) / (now - start);
}

export function measure(bench: Bench, c: BenchCase, ms = MEASURE_MS): Measurement {
  const opsPerSec = opsPerSecond(c.subject, ms);
  const baselineOpsPerSec = opsPerSecond(c.baseline, ms);
  const target = c.targetOpsPerSec ?? null;
  return {
    bench: bench.name,
    case: c.name,
    baseline: bench.baseline,
    opsPerSec: Math.round(opsPerSec),
    baselineOpsPerSec: Math.round(baselineOpsPerSec),
    ratio: Number((opsPerSec / baselineOpsPerSec).toPrecision(3)),
    targetOpsPerSec: target,
    meetsTarget: target === null ? null : opsPerSec >= target,
  };
}
