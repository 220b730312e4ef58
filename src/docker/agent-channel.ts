// The injector's side of the agent protocol (docs/agent-protocol.md), built on DockerAdapter: snapshot, stage, reload, read traces.
import { MAX_PROGRAM_BYTES } from '../bytecode/format';
import {
  CURRENT_FILE,
  CpuFigures,
  EXECUTION_LOG_FILE,
  formatReloadSignal,
  formatReloadSignalV2,
  isRecord,
  MAX_OUTCOME_BYTES,
  MAX_OUTCOME_STEP_LINES,
  outcomeFile,
  parseCurrentValue,
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
import { hasControlCharacter, stripControlCharacters } from '../shared/control-chars';
import { DockerAdapterError } from './errors';
import type { DockerAdapter } from './types';
import type { AgentProgramRef, TraceSummary } from '../shared/injection-types';

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

/** Protocol v2: the reload's whole answer, bounded and checked where it enters the injector. */
export interface AgentOutcomeRead {
  final: TraceLine;
  lines: TraceLine[];
  truncated: boolean;
  replaced: AgentProgramRef | null;
  switched: boolean;
  current: (AgentProgramRef & { sequence: number | null }) | null;
  restore?: TraceSummary['restore'];
}

/** v2: before the first read of an outcome, the agent gets this long to answer (most answer well within it). */
export const OUTCOME_FIRST_READ_MS = 40;

export interface AgentChannel {
  /** v2: the sealed file and the v2 signal naming it, in one archive (one Docker call). */
  sendV2(containerId: string, reloadId: string, sealed: Buffer): Promise<void>;
  /** v2: polls `.outcome-<R>.json` (one archive read per poll) until it is there; null when the timeout passes. */
  readOutcome(containerId: string, reloadId: string, options: ReadTraceOptions): Promise<AgentOutcomeRead | null>;
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

// Bounds on what one trace line may carry into a workflow history: an agent is not trusted, so every field it writes
// is checked for shape and cut to size here, where its lines enter the injector.
/** An agent's error code: short, upper-case; anything else becomes FALLBACK_ERROR_CODE. */
export const TRACE_ERROR_CODE_PATTERN = /^[A-Z][A-Z0-9_]{0,63}$/;
export const FALLBACK_ERROR_CODE = 'AGENT_ERROR';
/** Error messages and instructions are cut to this many characters (an ellipsis marks the cut). */
export const MAX_TRACE_TEXT_CHARS = 400;
/** An outcome whose JSON is longer than this is replaced by `{ truncated: true }`. */
export const MAX_TRACE_OUTCOME_BYTES = 2 * 1024;
/** Program ids are the bytecode's (at most MAX_PROGRAM_ID_BYTES bytes); a longer one makes the line foreign. */
export const MAX_TRACE_PROGRAM_ID_CHARS = 128;
/** An ISO-8601 timestamp with a zone fits easily; a longer `ts` makes the line foreign. */
export const MAX_TRACE_TS_CHARS = 40;

/**
 * `text` without control characters (terminal escapes and line breaks have no place in a trace field), cut to
 * `maxChars` (never inside a surrogate pair), with … marking a cut.
 */
export function boundTraceText(text: string, maxChars: number = MAX_TRACE_TEXT_CHARS): string {
  const clean = stripControlCharacters(text);
  if (clean.length <= maxChars) return clean;
  let cut = clean.slice(0, maxChars - 1);
  if (/[\ud800-\udbff]$/.test(cut)) cut = cut.slice(0, -1);
  return `${cut}…`;
}

/** A copy of parsed JSON with control characters gone from every string and key; keys are set as own properties. */
function withoutControlChars(value: unknown): unknown {
  if (typeof value === 'string') return stripControlCharacters(value);
  if (Array.isArray(value)) return value.map(withoutControlChars);
  if (isRecord(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [stripControlCharacters(k), withoutControlChars(v)]));
  return value;
}

/** The outcome as the agent wrote it, cleaned, if its JSON fits MAX_TRACE_OUTCOME_BYTES; else `{ truncated: true }`. */
function boundOutcome(outcome: Record<string, unknown>): Record<string, unknown> {
  let bytes: number;
  try {
    bytes = Buffer.byteLength(JSON.stringify(outcome));
  } catch {
    return { truncated: true }; // nested too deep to measure
  }
  // Measured before cleaning, so the walk below only ever sees at most MAX_TRACE_OUTCOME_BYTES of JSON.
  return bytes <= MAX_TRACE_OUTCOME_BYTES ? (withoutControlChars(outcome) as Record<string, unknown>) : { truncated: true };
}

function boundError(error: unknown): TraceLine['error'] | undefined {
  if (typeof error === 'string') return boundTraceText(error);
  if (!isRecord(error) || typeof error.code !== 'string' || typeof error.message !== 'string') return undefined;
  return { code: TRACE_ERROR_CODE_PATTERN.test(error.code) ? error.code : FALLBACK_ERROR_CODE, message: boundTraceText(error.message) };
}

const isCount = (n: unknown): n is number => typeof n === 'number' && Number.isSafeInteger(n) && n >= 0;
const isAmount = (n: unknown): n is number => typeof n === 'number' && Number.isFinite(n) && n >= 0;
const isProgramId = (id: unknown): id is string => typeof id === 'string' && id.length <= MAX_TRACE_PROGRAM_ID_CHARS && !hasControlCharacter(id);

/**
 * Validates one parsed log line as a trace line; anything else (foreign or damaged lines) is skipped. Every field kept
 * is bounded (see the constants above), so one agent cannot push megabytes, or terminal escapes, into a history.
 */
export function toTraceLine(value: unknown): TraceLine | null {
  if (!isRecord(value) || value.v !== 1) return null;
  const { injectionId, programId, status, ts } = value;
  if (typeof injectionId !== 'string' || !isReloadId(injectionId)) return null;
  if (typeof ts !== 'string' || ts.length > MAX_TRACE_TS_CHARS || typeof status !== 'string' || !STATUSES.has(status)) return null;
  if (programId !== null && !isProgramId(programId)) return null;
  const line: TraceLine = { injectionId, programId, status: status as TraceLine['status'], ts: stripControlCharacters(ts) };
  if (isCount(value.step)) line.step = value.step;
  if (typeof value.instruction === 'string') line.instruction = boundTraceText(value.instruction);
  if (value.final === true) line.final = true;
  if (isCount(value.steps)) line.steps = value.steps;
  if (isAmount(value.durationMs)) line.durationMs = value.durationMs;
  if (value.traceTruncated === true) line.traceTruncated = true;
  if (isProgramId(value.revertedTo) || value.revertedTo === null) line.revertedTo = value.revertedTo;
  const error = boundError(value.error);
  if (error !== undefined) line.error = error;
  const memory = value.memory;
  if (isRecord(memory) && isAmount(memory.initialBytes) && isAmount(memory.finalBytes) && isAmount(memory.peakBytes)) {
    line.memory = { initialBytes: memory.initialBytes, finalBytes: memory.finalBytes, peakBytes: memory.peakBytes };
  }
  const cpu = value.cpu;
  if (isRecord(cpu) && isAmount(cpu.userMs) && isAmount(cpu.systemMs)) line.cpu = { userMs: cpu.userMs, systemMs: cpu.systemMs };
  if (isRecord(value.outcome)) line.outcome = boundOutcome(value.outcome);
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

const RESTORE_OUTCOMES = new Set(['restored', 'nothing-to-undo', 'superseded', 'no-record']);

function programRefOf(value: unknown): AgentProgramRef | null | undefined {
  if (value === null) return null;
  if (!isRecord(value)) return undefined;
  const str = (v: unknown, bound: number) => (v === null ? null : typeof v === 'string' && v.length <= bound && !hasControlCharacter(v) ? v : undefined);
  const programId = str(value.programId, MAX_TRACE_PROGRAM_ID_CHARS);
  const reloadId = value.reloadId === null ? null : typeof value.reloadId === 'string' && isReloadId(value.reloadId) ? value.reloadId : undefined;
  const sha256 = value.sha256 === null ? null : typeof value.sha256 === 'string' && /^[0-9a-f]{64}$/.test(value.sha256) ? value.sha256 : undefined;
  if (programId === undefined || reloadId === undefined || sha256 === undefined) return undefined;
  return { programId, reloadId, sha256 };
}

/**
 * An outcome file as the agent wrote it, checked like its trace lines (toTraceLine): an agent is not trusted, so a
 * file that is not a well-formed answer for this reload is ARCHIVE_MALFORMED and nothing of it is used.
 */
export function parseOutcome(bytes: Buffer, reloadId: string): AgentOutcomeRead {
  const malformed = (why: string) => new DockerAdapterError('ARCHIVE_MALFORMED', `the agent's outcome of ${reloadId} is not a protocol-v2 answer: ${why}`);
  let value: unknown;
  try {
    value = JSON.parse(bytes.toString('utf8'));
  } catch {
    throw malformed('not JSON');
  }
  if (!isRecord(value) || value.v !== 2 || value.reloadId !== reloadId) throw malformed('wrong version or reload id');
  const final = toTraceLine(value.final);
  if (!final || final.final !== true || final.injectionId !== reloadId) throw malformed('no final line of this reload');
  const rawLines = Array.isArray(value.lines) ? value.lines.slice(0, MAX_OUTCOME_STEP_LINES) : [];
  const lines = rawLines.map(toTraceLine).filter((l): l is TraceLine => l !== null && l.injectionId === reloadId && l.final !== true);
  const replaced = programRefOf(value.replaced ?? null);
  if (replaced === undefined) throw malformed('replaced is not a program reference');
  let current: AgentOutcomeRead['current'] = null;
  if (value.current !== null && value.current !== undefined) {
    const parsed = parseCurrentValue(value.current);
    const ref = parsed ? programRefOf(parsed) : undefined;
    if (!parsed || !ref) throw malformed('current is not a CURRENT record');
    current = { ...ref, sequence: parsed.sequence ?? null };
  }
  const restore = typeof value.restore === 'string' && RESTORE_OUTCOMES.has(value.restore) ? (value.restore as AgentOutcomeRead['restore']) : undefined;
  return {
    final,
    lines,
    truncated: value.linesTruncated === true || (Array.isArray(value.lines) && value.lines.length > MAX_OUTCOME_STEP_LINES),
    replaced,
    switched: value.switched === true,
    current,
    ...(restore ? { restore } : {}),
  };
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
    async sendV2(containerId, reloadId, sealed) {
      assertReloadId(reloadId);
      if (sealed.length > MAX_PROGRAM_BYTES) throw new DockerAdapterError('INVALID_ARGUMENT', `program of ${sealed.length} bytes is over ${MAX_PROGRAM_BYTES}`);
      // The program first, then the signal: the engine writes the entries in order, so the signal never names a
      // file that is not there yet (the agent still verifies every byte it reads).
      await adapter.writeFiles(containerId, PROGRAMS_DIR, [
        { name: stagedProgramFile(reloadId), content: sealed, mode: 0o644 },
        { name: RELOAD_SIGNAL_FILE, content: Buffer.from(formatReloadSignalV2(reloadId)), mode: 0o644 },
      ]);
    },

    async readOutcome(containerId, reloadId, options) {
      assertReloadId(reloadId);
      const started = Date.now();
      let lastStateCheck = started;
      let wait = Math.min(OUTCOME_FIRST_READ_MS, options.timeoutMs);
      let interval = TRACE_POLL_INITIAL_MS;
      const read = async () => {
        const file = await adapter.readFile(containerId, `${PROGRAMS_DIR}/${outcomeFile(reloadId)}`, MAX_OUTCOME_BYTES);
        return file.found ? parseOutcome(file.content, reloadId) : null;
      };
      for (;;) {
        await sleep(wait, options.signal);
        if (options.signal?.aborted) throw new DockerAdapterError('ABORTED', `reading the outcome of ${reloadId} was cancelled`);
        const outcome = await read();
        options.onPoll?.(outcome ? 1 : 0);
        if (outcome) return outcome;
        const now = Date.now();
        if (now - lastStateCheck >= CONTAINER_CHECK_INTERVAL_MS) {
          lastStateCheck = now;
          const state = await adapter.containerState(containerId);
          if (!state.running) {
            const last = await read(); // the agent may have answered just before it stopped
            if (last) return last;
            throw new DockerAdapterError('CONTAINER_NOT_RUNNING', `container ${containerId} stopped (${state.status}) before reload ${reloadId} finished`);
          }
        }
        const left = options.timeoutMs - (now - started);
        if (left <= 0) return null;
        wait = Math.min(interval, left);
        interval = Math.min(TRACE_POLL_MAX_MS, Math.round(interval * TRACE_POLL_GROWTH));
      }
    },

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
