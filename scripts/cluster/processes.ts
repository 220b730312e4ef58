// Long-running processes of the cluster: each started in its own session (so a Ctrl-C elsewhere never reaches it),
// logged to a file, and remembered by a pid file that also holds its start time, so a recycled pid is never mistaken
// for it. `down` stops exactly these.
import { execFile, spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';

/** How long a process gets after SIGTERM to exit before SIGKILL. */
export const STOP_TIMEOUT_MS = 30_000;
const POLL_INTERVAL_MS = 200;
/** Output kept from a failing helper command, for its error message. */
export const COMMAND_OUTPUT_MAX_BYTES = 4 * 1024 * 1024;
export const LOG_TAIL_CHARS = 3_000;

export class ClusterProcessError extends Error {
  constructor(
    readonly code: 'COMMAND_FAILED' | 'START_FAILED' | 'NOT_READY' | 'STOP_FAILED',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'ClusterProcessError';
  }
}

export const delay = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Runs a helper command to completion (argv, no shell); its output on failure is in the error. */
export async function run(command: string, args: string[], options: { env?: NodeJS.ProcessEnv; cwd?: string; timeoutMs: number }): Promise<string> {
  try {
    const { stdout } = await promisify(execFile)(command, args, { env: options.env ?? process.env, cwd: options.cwd, timeout: options.timeoutMs, maxBuffer: COMMAND_OUTPUT_MAX_BYTES });
    return stdout;
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    const output = `${e.stdout ?? ''}${e.stderr ?? ''}`.slice(-LOG_TAIL_CHARS);
    throw new ClusterProcessError('COMMAND_FAILED', `${path.basename(command)} ${args.join(' ')} failed: ${e.message}\n${output}`, { cause: err });
  }
}

/** Field 22 of /proc/<pid>/stat: when the process started, in clock ticks since boot; undefined when it is gone. */
function startTimeOf(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: count fields after its closing parenthesis.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (fields[0] === 'Z') return undefined;
    return fields[19];
  } catch {
    return undefined;
  }
}

export interface ManagedProcess {
  name: string;
  pidFile: string;
  logFile: string;
}

export function managedProcess(pidsDir: string, logsDir: string, name: string): ManagedProcess {
  return { name, pidFile: path.join(pidsDir, `${name}.pid`), logFile: path.join(logsDir, `${name}.log`) };
}

/** The pid of the process if the one its pid file names still runs. */
export function runningPid(proc: ManagedProcess): number | undefined {
  let recorded: { pid: number; startTime: string };
  try {
    recorded = JSON.parse(readFileSync(proc.pidFile, 'utf8')) as { pid: number; startTime: string };
  } catch {
    return undefined;
  }
  return startTimeOf(recorded.pid) === recorded.startTime ? recorded.pid : undefined;
}

export function logTail(proc: ManagedProcess): string {
  try {
    return readFileSync(proc.logFile, 'utf8').slice(-LOG_TAIL_CHARS);
  } catch {
    return '(no log)';
  }
}

/** Starts the process detached (setsid), output appended to its log; returns at once with its pid. */
export function startDetached(proc: ManagedProcess, command: string, args: string[], options: { env: NodeJS.ProcessEnv; cwd: string }): number {
  mkdirSync(path.dirname(proc.pidFile), { recursive: true });
  mkdirSync(path.dirname(proc.logFile), { recursive: true });
  const log = openSync(proc.logFile, 'a');
  let pid: number | undefined;
  try {
    const child = spawn(command, args, { detached: true, stdio: ['ignore', log, log], env: options.env, cwd: options.cwd });
    pid = child.pid;
    child.unref();
  } finally {
    closeSync(log);
  }
  const startTime = pid === undefined ? undefined : startTimeOf(pid);
  if (pid === undefined || startTime === undefined) throw new ClusterProcessError('START_FAILED', `${proc.name} did not start (${command}):\n${logTail(proc)}`);
  writeFileSync(proc.pidFile, JSON.stringify({ pid, startTime, command, args }));
  return pid;
}

/** SIGTERM to the process's group (it leads its own session), SIGKILL after timeoutMs; then forgets it. */
export async function stopProcess(proc: ManagedProcess, options: { signal?: NodeJS.Signals; timeoutMs?: number } = {}): Promise<boolean> {
  const pid = runningPid(proc);
  if (pid === undefined) {
    rmSync(proc.pidFile, { force: true });
    return false;
  }
  const signalGroup = (signal: NodeJS.Signals) => {
    try {
      process.kill(-pid, signal);
    } catch {
      // Already gone.
    }
  };
  signalGroup(options.signal ?? 'SIGTERM');
  const deadline = Date.now() + (options.timeoutMs ?? STOP_TIMEOUT_MS);
  while (runningPid(proc) !== undefined) {
    if (Date.now() > deadline) {
      signalGroup('SIGKILL');
      await waitGone(proc, STOP_TIMEOUT_MS);
      break;
    }
    await delay(POLL_INTERVAL_MS);
  }
  rmSync(proc.pidFile, { force: true });
  return true;
}

async function waitGone(proc: ManagedProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (runningPid(proc) !== undefined) {
    if (Date.now() > deadline) throw new ClusterProcessError('STOP_FAILED', `${proc.name} still runs after SIGKILL`);
    await delay(POLL_INTERVAL_MS);
  }
}

/** Polls `ready` until it resolves true, failing early when the process has died, and after timeoutMs. */
export async function waitUntil(what: string, ready: () => Promise<boolean>, options: { timeoutMs: number; proc?: ManagedProcess }): Promise<void> {
  const deadline = Date.now() + options.timeoutMs;
  for (;;) {
    if (await ready().catch(() => false)) return;
    if (options.proc && runningPid(options.proc) === undefined) throw new ClusterProcessError('START_FAILED', `${options.proc.name} exited before ${what}:\n${logTail(options.proc)}`);
    if (Date.now() > deadline) throw new ClusterProcessError('NOT_READY', `${what}: not within ${options.timeoutMs} ms${options.proc ? `\n${logTail(options.proc)}` : ''}`);
    await delay(POLL_INTERVAL_MS * 2);
  }
}
