// The agent protocol (docs/agent-protocol.md): paths, names, bounds and wire shapes shared by the agent runtime and the injector.

export const PROTOCOL_VERSION = 1;

export const LABEL_ROLE = 'dreamnet.role';
export const LABEL_ROLE_AGENT = 'agent';
export const LABEL_AGENT_ID = 'dreamnet.agent';
export const LABEL_GROUP = 'dreamnet.group';

export const PROGRAMS_DIR = '/app/injected-programs';
export const LOGS_DIR = '/app/logs';
export const STATE_DIR = '/app/state';
export const PROGRAM_FILE = 'program.bc';
export const RELOAD_SIGNAL_FILE = 'RELOAD_SIGNAL';
export const CURRENT_FILE = 'CURRENT';
export const EXECUTION_LOG_FILE = 'execution.log';
export const ROTATED_LOG_FILE = 'execution.log.1';

/** Agent ids and group names: never path-like. */
export const AGENT_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;
/** Reload ids: the injection id, or `<injectionId>.rollback`. */
export const RELOAD_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,160}$/;
export const ROLLBACK_SUFFIX = '.rollback';

/** A RELOAD_SIGNAL file larger than this is ignored as garbage. */
export const MAX_RELOAD_SIGNAL_BYTES = 1024;
/** A CURRENT file larger than this is treated as unreadable. */
export const MAX_CURRENT_BYTES = 2048;
/** Every trace line, newline included, is at most this long; longer outcomes and messages are cut. */
export const MAX_TRACE_LINE_BYTES = 2048;
/** Step lines written per run; past it the run goes on but only its final line is written (with traceTruncated). */
export const MAX_STEP_LINES_PER_RUN = 2000;
/** The log is rotated to execution.log.1 before a run when it has grown past this. */
export const LOG_ROTATE_BYTES = 1024 * 1024;
/** Upper bound of execution.log's size: rotation threshold plus one run's lines plus refusals queued meanwhile. */
export const MAX_LOG_BYTES = LOG_ROTATE_BYTES + (MAX_STEP_LINES_PER_RUN + 64) * MAX_TRACE_LINE_BYTES;
/** Seen reload ids remembered across restarts. */
export const MAX_SEEN_RELOAD_IDS = 1000;

export function stagedProgramFile(reloadId: string): string {
  return `.staged-${reloadId}.bc`;
}

export function isAgentName(value: string): boolean {
  return AGENT_NAME_PATTERN.test(value);
}

export function isReloadId(value: string): boolean {
  return RELOAD_ID_PATTERN.test(value);
}

export interface ReloadSignal {
  v: 1;
  id: string;
  /** `.staged-<id>.bc` (a sealed program or a sealed clear); null is an unsigned clear, which v2 agents refuse. */
  program: string | null;
}

export function formatReloadSignal(reloadId: string, hasProgram: boolean): string {
  const signal: ReloadSignal = { v: 1, id: reloadId, program: hasProgram ? stagedProgramFile(reloadId) : null };
  return JSON.stringify(signal) + '\n';
}

/** Parses RELOAD_SIGNAL content; undefined for anything that is not a complete, well-formed v1 signal. */
export function parseReloadSignal(text: string): ReloadSignal | undefined {
  if (Buffer.byteLength(text) > MAX_RELOAD_SIGNAL_BYTES) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!isRecord(parsed) || parsed.v !== 1 || typeof parsed.id !== 'string') return undefined;
  if (parsed.program !== null && typeof parsed.program !== 'string') return undefined;
  return { v: 1, id: parsed.id, program: parsed.program };
}

export interface CurrentProgram {
  programId: string | null;
  reloadId: string | null;
  sha256: string | null;
  /** The highest envelope sequence the agent has accepted (bytecode v2); null or absent before the first. */
  sequence?: number | null;
  since: string;
}

export function parseCurrent(text: string): CurrentProgram | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!isRecord(parsed) || typeof parsed.since !== 'string') return undefined;
  const field = (v: unknown): string | null | undefined => (v === null || typeof v === 'string' ? v : undefined);
  const programId = field(parsed.programId);
  const reloadId = field(parsed.reloadId);
  const sha256 = field(parsed.sha256);
  if (programId === undefined || reloadId === undefined || sha256 === undefined) return undefined;
  const sequence = typeof parsed.sequence === 'number' && Number.isSafeInteger(parsed.sequence) && parsed.sequence >= 0 ? parsed.sequence : null;
  return { programId, reloadId, sha256, sequence, since: parsed.since };
}

export type TraceStatus = 'executing' | 'completed' | 'error';

export interface MemoryFigures {
  initialBytes: number;
  finalBytes: number;
  peakBytes: number;
}

export interface CpuFigures {
  userMs: number;
  systemMs: number;
}

export interface StepTraceLine {
  v: 1;
  injectionId: string;
  programId: string | null;
  step: number;
  instruction: string;
  status: TraceStatus;
  ts: string;
  outcome?: Record<string, string | number | boolean>;
  error?: string;
}

export interface FinalTraceLine {
  v: 1;
  injectionId: string;
  programId: string | null;
  final: true;
  status: 'completed' | 'error';
  steps: number;
  error?: { code: string; message: string };
  /** Present when a program failed while running: the agent put back the program it replaced (null: none). */
  revertedTo?: string | null;
  memory: MemoryFigures;
  cpu: CpuFigures;
  durationMs: number;
  traceTruncated?: boolean;
  ts: string;
}

export type AgentTraceLine = StepTraceLine | FinalTraceLine;

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
