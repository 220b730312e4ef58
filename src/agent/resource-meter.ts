// Memory and CPU figures for one run: rss sampled at start, on every step, on a timer, and at the end.
export const MEMORY_SAMPLE_INTERVAL_MS = 20;

export interface RunFigures {
  memory: { initialBytes: number; finalBytes: number; peakBytes: number };
  cpu: { userMs: number; systemMs: number };
  durationMs: number;
}

export interface ResourceMeter {
  sample(): void;
  finish(): RunFigures;
}

export function startResourceMeter(sampleIntervalMs = MEMORY_SAMPLE_INTERVAL_MS): ResourceMeter {
  const startedAt = performance.now();
  const cpuAtStart = process.cpuUsage();
  const initialBytes = process.memoryUsage.rss();
  let peakBytes = initialBytes;
  const sample = () => {
    peakBytes = Math.max(peakBytes, process.memoryUsage.rss());
  };
  const timer = setInterval(sample, sampleIntervalMs);
  timer.unref();
  return {
    sample,
    finish() {
      clearInterval(timer);
      const finalBytes = process.memoryUsage.rss();
      peakBytes = Math.max(peakBytes, finalBytes);
      const cpu = process.cpuUsage(cpuAtStart);
      return {
        memory: { initialBytes, finalBytes, peakBytes },
        cpu: { userMs: Math.round(cpu.user / 1000), systemMs: Math.round(cpu.system / 1000) },
        durationMs: Math.round(performance.now() - startedAt),
      };
    },
  };
}
