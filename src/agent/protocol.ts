// The agent protocol (docs/agent-protocol.md): paths, names, bounds and wire shapes shared by the agent runtime and the injector.

/** The newest protocol the reference runtime speaks; it still answers v1 (docs/agent-protocol.md, "Versions"). */
export const PROTOCOL_VERSION = 2;
export type ProtocolVersion = 1 | 2;
/** Label that says which protocol versions an agent speaks, newest last (`1,2`); absent: v1 only. */
export const LABEL_PROTOCOL = 'dreamnet.protocol';
/** What the reference image declares. */
export const REFERENCE_PROTOCOLS = '1,2';

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
/** v2: one outcome file per reload in PROGRAMS_DIR (`.outcome-<R>.json`), written by the agent after its final line. */
export const OUTCOME_FILE_PREFIX = '.outcome-';
export const OUTCOME_FILE_SUFFIX = '.json';
/** v2: what the agent's last install replaced, kept by the agent itself for a restore (in STATE_DIR). */
export const KEPT_PROGRAM_FILE = 'replaced.bc';
export const KEPT_RECORD_FILE = 'replaced.json';

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

/** An outcome file is at most this long; the injector refuses a longer one. */
export const MAX_OUTCOME_BYTES = 64 * 1024;
/** Step lines an outcome carries at most (the rest stays in execution.log), and their bytes at most. */
export const MAX_OUTCOME_STEP_LINES = 200;
export const MAX_OUTCOME_STEP_BYTES = 32 * 1024;
/** Outcome files the agent keeps; the oldest are removed past this. */
export const MAX_KEPT_OUTCOMES = 32;

/** The protocol the injector speaks to an agent: the newest both sides know, by the agent's label. */
export function negotiateProtocol(label: string | undefined): ProtocolVersion {
  if (label === undefined) return 1;
  const versions = label.split(',').map((v) => v.trim());
  return versions.includes('2') ? 2 : 1;
}

export function outcomeFile(reloadId: string): string {
  return `${OUTCOME_FILE_PREFIX}${reloadId}${OUTCOME_FILE_SUFFIX}`;
}

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
  /** 2: the agent also writes the reload's outcome file, and a restore kind is meaningful. Both are answered. */
  v: 1 | 2;
  id: string;
  /** `.staged-<id>.bc` (a sealed program or a sealed clear); null is an unsigned clear, which v2 agents refuse. */
  program: string | null;
}

export function formatReloadSignal(reloadId: string, hasProgram: boolean): string {
  const signal: ReloadSignal = { v: 1, id: reloadId, program: hasProgram ? stagedProgramFile(reloadId) : null };
  return JSON.stringify(signal) + '\n';
}

/** A v2 signal: always names the staged file (a v2 clear or restore is sealed like a program). */
export function formatReloadSignalV2(reloadId: string): string {
  const signal: ReloadSignal = { v: 2, id: reloadId, program: stagedProgramFile(reloadId) };
  return JSON.stringify(signal) + '\n';
}

/** Parses RELOAD_SIGNAL content; undefined for anything that is not a complete, well-formed v1 or v2 signal. */
export function parseReloadSignal(text: string): ReloadSignal | undefined {
  if (Buffer.byteLength(text) > MAX_RELOAD_SIGNAL_BYTES) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!isRecord(parsed) || (parsed.v !== 1 && parsed.v !== 2) || typeof parsed.id !== 'string') return undefined;
  if (parsed.program !== null && typeof parsed.program !== 'string') return undefined;
  return { v: parsed.v, id: parsed.id, program: parsed.program };
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
  return parseCurrentValue(parsed);
}

/** A parsed CURRENT object (also as a field of an outcome or a kept record); undefined when it is not one. */
export function parseCurrentValue(parsed: unknown): CurrentProgram | undefined {
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

/** What a program reference says about what an agent ran: the CURRENT fields that name it. */
export interface ProgramNamed {
  programId: string | null;
  reloadId: string | null;
  sha256: string | null;
}

/** What a restore found (v2): put back, nothing to do (the agent already runs what R replaced), or another reload runs. */
export type RestoreOutcome = 'restored' | 'nothing-to-undo' | 'superseded' | 'no-record';

/**
 * v2: `.outcome-<R>.json`, the reload's whole answer in one file: its final line, its first step lines, what it
 * replaced and what the agent runs now. Written (temp file, then rename) after the final line is in the log.
 */
export interface AgentOutcome {
  v: 2;
  reloadId: string;
  final: FinalTraceLine;
  lines: StepTraceLine[];
  /** Step lines past MAX_OUTCOME_STEP_LINES / MAX_OUTCOME_STEP_BYTES are only in execution.log. */
  linesTruncated: boolean;
  /** What this reload replaced when it switched (null: nothing ran, or it never switched: see `switched`). */
  replaced: ProgramNamed | null;
  /** Whether this reload changed what the agent runs (false for a refusal or a restore with nothing to do). */
  switched: boolean;
  current: CurrentProgram | null;
  restore?: RestoreOutcome;
}

/** The agent's own record of what its last install replaced (STATE_DIR/replaced.json; bytes in replaced.bc). */
export interface KeptRecord {
  v: 2;
  /** The reload whose install replaced it. */
  by: string;
  /** CURRENT as it was before (null: no program ran). */
  previous: CurrentProgram | null;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
