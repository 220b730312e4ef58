// The injector's side of the agent protocol (docs/agent-protocol.md), built on DockerAdapter: snapshot, stage, reload, read traces.
import { MAX_PROGRAM_BYTES } from '../bytecode/format';
import {
  CURRENT_FILE,
  CpuFigures,
  EXECUTION_LOG_FILE,
  formatReloadSignal,
  isRecord,
  isReloadId,
  LOGS_DIR,
  MAX_CURRENT_BYTES,
  MAX_LOG_BYTES,
  MAX_RELOAD_SIGNAL_BYTES,
  MemoryFigures,
  parseCurrent,
  parseReloadSignal,
  PROGRAM_FILE,
  PROGRAMS_DIR,
  RELOAD_SIGNAL_FILE,
  ROTATED_LOG_FILE,
  stagedProgramFile,
} from '../agent/protocol';
import { DockerAdapterError } from './errors';
import type { DockerAdapter } from './types';

export const TRACE_POLL_INITIAL_MS = 25;
export const TRACE_POLL_MAX_MS = 500;
export const TRACE_POLL_GROWTH = 1.5;
/** While waiting for a trace, the container's state is checked at most this often. */
export const CONTAINER_CHECK_INTERVAL_MS = 1_000;
export const DEFAULT_MAX_TRACE_LINES = 5_000;

export interface TraceLine {
  injectionId: string;
  programId: string | null;
  step?: number;
  instruction?: string;
  status: 'executing' | 'completed' | 'error';
  final?: boolean;
  ts: string;
  error?: { code: string; message: string } | string;
  steps?: number;
  memory?: MemoryFigures;
  cpu?: CpuFigures;
  durationMs?: number;
  traceTruncated?: boolean;
  /** The program the agent put back after this one failed while running (null: none). */
  revertedTo?: string | null;
  outcome?: Record<string, unknown>;
}

export interface TraceResult {
  lines: TraceLine[];
  /** null: the timeout passed before the agent wrote its final line. */
  final: TraceLine | null;
  /** More than maxLines lines matched; the first maxLines are kept (the final line is always returned). */
  truncated: boolean;
}

export interface CurrentProgramRef {
  programId: string | null;
  reloadId: string | null;
  sha256: string | null;
  /** The highest envelope sequence the agent says it accepted; null when it names none. */
  sequence: number | null;
}

export interface AgentSnapshot {
  program: Buffer | null;
  logOffset: number;
  current: CurrentProgramRef | null;
}

export interface ReadTraceOptions {
  timeoutMs: number;
  signal?: AbortSignal;
  onPoll?: (linesSoFar: number) => void;
  maxLines?: number;
}

export interface AgentChannel {
  snapshot(containerId: string): Promise<AgentSnapshot>;
  stage(containerId: string, reloadId: string, program: Buffer | null): Promise<void>;
  reload(containerId: string, reloadId: string, hasProgram: boolean): Promise<void>;
  readTrace(containerId: string, reloadId: string, fromOffset: number, options: ReadTraceOptions): Promise<TraceResult>;
  current(containerId: string): Promise<CurrentProgramRef | null>;
  /**
   * Whether reload `reloadId` has left any mark on the agent: its program staged, its signal written, or the agent
   * switched to it (CURRENT). For a workflow that cannot tell from its own history how far its steps got.
   */
  touchedBy(containerId: string, reloadId: string): Promise<boolean>;
}

const PROGRAM_PATH = `${PROGRAMS_DIR}/${PROGRAM_FILE}`;
const CURRENT_PATH = `${PROGRAMS_DIR}/${CURRENT_FILE}`;
const SIGNAL_PATH = `${PROGRAMS_DIR}/${RELOAD_SIGNAL_FILE}`;
const LOG_PATH = `${LOGS_DIR}/${EXECUTION_LOG_FILE}`;
const ROTATED_LOG_PATH = `${LOGS_DIR}/${ROTATED_LOG_FILE}`;
const STATUSES = new Set(['executing', 'completed', 'error']);

function assertReloadId(reloadId: string): void {
  if (!isReloadId(reloadId)) throw new DockerAdapterError('INVALID_ARGUMENT', `reload id ${JSON.stringify(reloadId.slice(0, 200))} does not match the protocol's pattern`);
}

/** Validates one parsed log line as a trace line; anything else (foreign or damaged lines) is skipped. */
export function toTraceLine(value: unknown): TraceLine | null {
  if (!isRecord(value) || value.v !== 1) return null;
  const { injectionId, programId, status, ts } = value;
  if (typeof injectionId !== 'string' || typeof ts !== 'string' || typeof status !== 'string' || !STATUSES.has(status)) return null;
  if (programId !== null && typeof programId !== 'string') return null;
  const line: TraceLine = { injectionId, programId, status: status as TraceLine['status'], ts };
  if (typeof value.step === 'number') line.step = value.step;
  if (typeof value.instruction === 'string') line.instruction = value.instruction;
  if (value.final === true) line.final = true;
  if (typeof value.steps === 'number') line.steps = value.steps;
  if (typeof value.durationMs === 'number') line.durationMs = value.durationMs;
  if (value.traceTruncated === true) line.traceTruncated = true;
  if (typeof value.revertedTo === 'string' || value.revertedTo === null) line.revertedTo = value.revertedTo;
  if (typeof value.error === 'string') line.error = value.error;
  else if (isRecord(value.error) && typeof value.error.code === 'string' && typeof value.error.message === 'string') {
    line.error = { code: value.error.code, message: value.error.message };
  }
  const memory = value.memory;
  if (isRecord(memory) && typeof memory.initialBytes === 'number' && typeof memory.finalBytes === 'number' && typeof memory.peakBytes === 'number') {
    line.memory = { initialBytes: memory.initialBytes, finalBytes: memory.finalBytes, peakBytes: memory.peakBytes };
  }
  const cpu = value.cpu;
  if (isRecord(cpu) && typeof cpu.userMs === 'number' && typeof cpu.systemMs === 'number') line.cpu = { userMs: cpu.userMs, systemMs: cpu.systemMs };
  if (isRecord(value.outcome)) line.outcome = value.outcome;
  return line;
}

/** Complete lines of `bytes` from `start`; returns the matching trace lines and where the next unread line begins. */
export function parseTraceChunk(bytes: Buffer, start: number, reloadId: string): { lines: TraceLine[]; next: number } {
  const lines: TraceLine[] = [];
  let cursor = start;
  for (;;) {
    const newline = bytes.indexOf(0x0a, cursor);
    if (newline < 0) break;
    const text = bytes.toString('utf8', cursor, newline);
    cursor = newline + 1;
    // Cheap pre-filter: skip lines of other reloads without parsing them.
    if (!text.includes(reloadId)) continue;
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      continue;
    }
    const line = toTraceLine(parsed);
    if (line && line.injectionId === reloadId) lines.push(line);
  }
  return { lines, next: cursor };
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}

export function createAgentChannel(adapter: DockerAdapter): AgentChannel {
  const readCurrent = async (containerId: string): Promise<CurrentProgramRef | null> => {
    const read = await adapter.readFile(containerId, CURRENT_PATH, MAX_CURRENT_BYTES);
    if (!read.found) return null;
    const current = parseCurrent(read.content.toString('utf8'));
    return current ? { programId: current.programId, reloadId: current.reloadId, sha256: current.sha256, sequence: current.sequence ?? null } : null;
  };

  return {
    async snapshot(containerId) {
      const state = await adapter.containerState(containerId);
      if (!state.running) throw new DockerAdapterError('CONTAINER_NOT_RUNNING', `container ${containerId} is ${state.status}`);
      const [program, current, log] = await Promise.all([
        adapter.readFile(containerId, PROGRAM_PATH, MAX_PROGRAM_BYTES),
        readCurrent(containerId),
        adapter.stat(containerId, LOG_PATH),
      ]);
      return { program: program.found ? program.content : null, current, logOffset: log.found ? log.size : 0 };
    },

    async stage(containerId, reloadId, program) {
      assertReloadId(reloadId);
      if (program === null) return;
      if (program.length > MAX_PROGRAM_BYTES) throw new DockerAdapterError('INVALID_ARGUMENT', `program of ${program.length} bytes is over ${MAX_PROGRAM_BYTES}`);
      await adapter.writeFile(containerId, `${PROGRAMS_DIR}/${stagedProgramFile(reloadId)}`, program, 0o644);
    },

    async reload(containerId, reloadId, hasProgram) {
      assertReloadId(reloadId);
      await adapter.writeFile(containerId, SIGNAL_PATH, Buffer.from(formatReloadSignal(reloadId, hasProgram)), 0o644);
    },

    async touchedBy(containerId, reloadId) {
      assertReloadId(reloadId);
      const [current, signal, staged] = await Promise.all([
        readCurrent(containerId),
        adapter.readFile(containerId, SIGNAL_PATH, MAX_RELOAD_SIGNAL_BYTES),
        adapter.stat(containerId, `${PROGRAMS_DIR}/${stagedProgramFile(reloadId)}`),
      ]);
      if (current?.reloadId === reloadId || staged.found) return true;
      return signal.found && parseReloadSignal(signal.content.toString('utf8'))?.id === reloadId;
    },

    async readTrace(containerId, reloadId, fromOffset, options) {
      assertReloadId(reloadId);
      const maxLines = options.maxLines ?? DEFAULT_MAX_TRACE_LINES;
      const started = Date.now();
      const lines: TraceLine[] = [];
      let truncated = false;
      let final: TraceLine | null = null;
      let consumed = Math.max(0, fromOffset);
      let interval = TRACE_POLL_INITIAL_MS;
      let lastStateCheck = started;

      const take = (found: TraceLine[]) => {
        for (const line of found) {
          if (line.final) final ??= line;
          if (lines.length < maxLines) lines.push(line);
          else truncated = true;
        }
      };

      const poll = async () => {
        const read = await adapter.readFile(containerId, LOG_PATH, MAX_LOG_BYTES);
        const content = read.found ? read.content : Buffer.alloc(0);
        if (content.length < consumed) {
          // Rotated since the last read: finish the old file from where we were, then start the new one at 0.
          const rotated = await adapter.readFile(containerId, ROTATED_LOG_PATH, MAX_LOG_BYTES);
          if (rotated.found && rotated.content.length >= consumed) take(parseTraceChunk(rotated.content, consumed, reloadId).lines);
          consumed = 0;
        }
        const chunk = parseTraceChunk(content, consumed, reloadId);
        consumed = chunk.next;
        take(chunk.lines);
      };

      for (;;) {
        if (options.signal?.aborted) throw new DockerAdapterError('ABORTED', `reading the trace of ${reloadId} was cancelled`);
        await poll();
        options.onPoll?.(lines.length);
        if (final) return { lines, final, truncated };
        const now = Date.now();
        if (now - lastStateCheck >= CONTAINER_CHECK_INTERVAL_MS) {
          lastStateCheck = now;
          const state = await adapter.containerState(containerId);
          if (!state.running) {
            await poll(); // the agent may have written its final line just before it stopped
            if (final) return { lines, final, truncated };
            throw new DockerAdapterError('CONTAINER_NOT_RUNNING', `container ${containerId} stopped (${state.status}) before reload ${reloadId} finished`);
          }
        }
        const left = options.timeoutMs - (now - started);
        if (left <= 0) return { lines, final: null, truncated };
        await sleep(Math.min(interval, left), options.signal);
        interval = Math.min(TRACE_POLL_MAX_MS, Math.round(interval * TRACE_POLL_GROWTH));
      }
    },

    current: readCurrent,
  };
}
