// Measuring helpers shared by the swarm and scale benches: percentiles, CPU time of a process from /proc, peak RSS,
// and a throwaway Temporal dev server (free ports, temp SQLite db) that is always removed.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DevServer, findTemporalCli, startScratchDevServer } from '../src/temporal/dev-server';

/** Compiled to dist/bench/, like every bench (npm run bench). */
export const PROJECT_ROOT = path.resolve(__dirname, '..', '..');
/** Linux reports process times in clock ticks; 100 per second on every kernel this runs on (getconf CLK_TCK). */
const CLOCK_TICKS_PER_SECOND = 100;
export const RSS_SAMPLE_INTERVAL_MS = 250;

export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/**
 * CPU milliseconds a process has used, its reaped children included (dockerd re-executes itself to unpack every
 * archive it is sent): utime + stime + cutime + cstime of /proc/<pid>/stat. null when the process is not visible.
 */
export function processCpuMs(pid: number): number | null {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  // The command name is in parentheses and may hold spaces: fields are counted from the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = [11, 12, 13, 14].reduce((sum, i) => sum + Number(fields[i] ?? 0), 0);
  return (ticks * 1000) / CLOCK_TICKS_PER_SECOND;
}

/** The pid of the first process whose command name is exactly `name` (e.g. dockerd), or null. */
export function findProcess(name: string): number | null {
  return findProcesses(name, 1)[0] ?? null;
}

/** The pids of the processes whose command name is exactly `name`, at most `limit` of them. */
export function findProcesses(name: string, limit = Infinity): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (found.length >= limit) break;
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/comm`, 'utf8').trim() === name) found.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

/** Load average of the machine, as a note beside every figure (the machine is shared). */
export function loadAverage(): string {
  return os
    .loadavg()
    .map((l) => l.toFixed(1))
    .join(' / ');
}

/** Busy and total CPU ticks of the whole machine since boot, all cores (the first line of /proc/stat). */
function machineTicks(): { busy: number; total: number } | null {
  let line: string;
  try {
    line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0];
  } catch {
    return null;
  }
  // cpu user nice system idle iowait irq softirq steal (guest time is already inside user and nice).
  const ticks = line.trim().split(/\s+/).slice(1, 9).map(Number);
  const idle = (ticks[3] ?? 0) + (ticks[4] ?? 0);
  const total = ticks.reduce((sum, t) => sum + t, 0);
  return { busy: total - idle, total };
}

export interface CpuMeter {
  /**
   * CPU ms used since the meter started, per process, and as a share of one core over the wall time; `machine` is the
   * share of all the machine's cores that was busy (1 = every core saturated), whoever used it.
   */
  stop(): { wallMs: number; processes: Record<string, { cpuMs: number | null; coreShare: number | null }>; machine: { busyShare: number | null; cores: number } };
}

/** CPU of several processes over one interval; `self` is this process (workers, gateway and client run here). */
export function startCpuMeter(pids: Record<string, number | null>): CpuMeter {
  const started = performance.now();
  const selfStart = process.cpuUsage();
  const machineStart = machineTicks();
  const before = Object.fromEntries(Object.entries(pids).map(([name, pid]) => [name, pid === null ? null : processCpuMs(pid)]));
  return {
    stop() {
      const wallMs = performance.now() - started;
      const processes: Record<string, { cpuMs: number | null; coreShare: number | null }> = {};
      for (const [name, pid] of Object.entries(pids)) {
        const start = before[name];
        const end = pid === null ? null : processCpuMs(pid);
        const cpuMs = start === null || end === null ? null : end - start;
        processes[name] = { cpuMs, coreShare: cpuMs === null ? null : cpuMs / wallMs };
      }
      const self = process.cpuUsage(selfStart);
      const selfMs = (self.user + self.system) / 1000;
      processes.self = { cpuMs: selfMs, coreShare: selfMs / wallMs };
      const machineEnd = machineTicks();
      const busyShare = machineStart && machineEnd && machineEnd.total > machineStart.total ? (machineEnd.busy - machineStart.busy) / (machineEnd.total - machineStart.total) : null;
      return { wallMs, processes, machine: { busyShare, cores: os.cpus().length } };
    },
  };
}

/** Samples this process's RSS until stopped; returns the peak in bytes. */
export function startRssSampler(): { stop(): number } {
  let peak = process.memoryUsage().rss;
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, RSS_SAMPLE_INTERVAL_MS);
  return {
    stop() {
      clearInterval(timer);
      return Math.max(peak, process.memoryUsage().rss);
    },
  };
}

export interface BenchDevServer {
  server: DevServer;
  stop(): Promise<void>;
}

/** A headless dev server of the bench's own, on free loopback ports, with a SQLite db in a temp dir removed on stop. */
export async function startBenchDevServer(name: string): Promise<BenchDevServer> {
  const runDir = mkdtempSync(path.join(os.tmpdir(), `openclaw-${name}-bench-`));
  try {
    const server = await startScratchDevServer(findTemporalCli(process.env.TEMPORAL_CLI_PATH, PROJECT_ROOT), runDir);
    return {
      server,
      stop: async () => {
        await server.stop();
        rmSync(runDir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    rmSync(runDir, { recursive: true, force: true });
    throw err;
  }
}

/** Parses `--name value` options after the bench names; unknown options are an error, so a typo never runs the default. */
export function parseOptions(args: readonly string[], known: readonly string[]): Map<string, string> {
  const options = new Map<string, string>();
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (!arg.startsWith('--')) continue;
    const [name, inline] = arg.slice(2).split('=', 2);
    if (!known.includes(name)) throw new Error(`unknown option --${name}; known: ${known.map((k) => `--${k}`).join(', ')}`);
    const value = inline ?? args[++i];
    if (value === undefined) throw new Error(`--${name} needs a value`);
    options.set(name, value);
  }
  return options;
}

export function positiveInteger(options: Map<string, string>, name: string, fallback: number, max: number): number {
  const raw = options.get(name);
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1 || value > max) throw new Error(`--${name} must be an integer from 1 to ${max}, got ${raw}`);
  return value;
}

export interface BenchCleanup {
  /** Run in reverse order by done(), or on SIGINT/SIGTERM (then the process exits 130); a failing step is logged. */
  cleanups: Array<() => Promise<void>>;
  /** Removes the signal handlers and runs every cleanup; call it in `finally`. */
  done(): Promise<void>;
}

/**
 * How long one cleanup step may take before the bench gives up on it and goes on with the next: removing 300
 * containers takes about a minute, and a wedged Docker engine (seen once: a libnetwork deadlock) would never answer.
 */
export const CLEANUP_STEP_TIMEOUT_MS = 5 * 60_000;

/** What a bench that starts real containers and servers must remove, even after a failure or Ctrl-C. */
export function benchCleanup(name: string): BenchCleanup {
  const cleanups: Array<() => Promise<void>> = [];
  const bounded = async (step: () => Promise<void>) => {
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<void>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`a cleanup step did not finish in ${CLEANUP_STEP_TIMEOUT_MS / 1000} s; what it was removing may be left behind`)), CLEANUP_STEP_TIMEOUT_MS);
    });
    try {
      await Promise.race([step(), timedOut]);
    } finally {
      clearTimeout(timer);
    }
  };
  const cleanUp = async () => {
    for (const step of cleanups.splice(0).reverse()) await bounded(step).catch((err: unknown) => console.error(`${name} cleanup:`, err));
  };
  const onSignal = () => void cleanUp().finally(() => process.exit(130));
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  return {
    cleanups,
    done: async () => {
      process.removeListener('SIGINT', onSignal);
      process.removeListener('SIGTERM', onSignal);
      await cleanUp();
    },
  };
}
