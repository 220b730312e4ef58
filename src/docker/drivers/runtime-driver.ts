// What it takes to change the program of one kind of agent runtime: stage, switch, verify and restore, behind one interface.
import type { TraceSummary } from '../../shared/injection-types';

/** Label that says which runtime a container runs; absent means the reference agent. */
export const LABEL_RUNTIME = 'dreamnet.runtime';
export type AgentRuntimeKind = 'reference' | 'openclaw';
export const AGENT_RUNTIME_KINDS: readonly AgentRuntimeKind[] = ['reference', 'openclaw'];

/** What an agent runs, as the agent itself reports it. `reloadId` names the reload that put it there. */
export interface RunningProgramRef {
  programId: string | null;
  reloadId: string | null;
  sha256: string | null;
}

/** The program a driver installs: the compiled bytecode for this agent, with its identity. */
export interface DriverProgram {
  programId: string;
  /** sha256 (hex) of `bytes`. */
  sha256: string;
  /** The program file for this agent (bytecode, signed). */
  bytes: Buffer;
}

export interface DriverCallOptions {
  /** How long the call may wait for the agent's own answer (trace, status). */
  timeoutMs: number;
  signal?: AbortSignal;
}

export interface InstallResult {
  /** The agent reports it runs `program` under `reloadId`. */
  ok: boolean;
  error?: { code: string; message: string };
  /** What the install replaced (null: the agent ran nothing). */
  replaced: RunningProgramRef | null;
  trace: TraceSummary;
}

export type RestoreResult =
  /** The agent ran what `reloadId` put there, and runs what it replaced again. */
  | { outcome: 'restored'; current: RunningProgramRef | null; trace: TraceSummary | null }
  /** The agent runs something else now (another reload replaced it): nothing was touched. */
  | { outcome: 'superseded'; current: RunningProgramRef | null }
  /** `reloadId` never reached the agent: nothing to undo. */
  | { outcome: 'nothing-to-undo'; current: RunningProgramRef | null };

/**
 * One kind of agent runtime. Every method is idempotent per reload id: a retry, or a replay after a worker crash,
 * never makes the agent act twice.
 */
export interface AgentRuntimeDriver {
  readonly runtime: AgentRuntimeKind;
  /** Stages the program, switches the agent to it, and waits (bounded by `timeoutMs`) until the agent says it took. */
  install(containerId: string, reloadId: string, program: DriverProgram, options: DriverCallOptions): Promise<InstallResult>;
  /** Compare-and-swap: restores what `reloadId` replaced only while the agent still runs what `reloadId` put there. */
  restore(containerId: string, reloadId: string, options: DriverCallOptions): Promise<RestoreResult>;
  current(containerId: string): Promise<RunningProgramRef | null>;
  /** Whether `reloadId` left any mark on the agent (staged, signalled or switched to). */
  touchedBy(containerId: string, reloadId: string): Promise<boolean>;
}

/**
 * A driver whose install can be taken apart into the injector's own steps (inject, reload, trace), so each runs as the
 * activity it already is: stage writes the program without changing what the agent runs, switchTo puts it in effect,
 * verify asks the agent until it confirms (bounded by `timeoutMs`) and returns what it said as the trace. install is
 * these three in a row.
 */
export interface StepwiseRuntimeDriver extends AgentRuntimeDriver {
  stage(containerId: string, reloadId: string, program: DriverProgram): Promise<void>;
  switchTo(containerId: string, reloadId: string): Promise<{ outcome: 'switched' | 'already'; replaced: RunningProgramRef | null }>;
  verify(containerId: string, reloadId: string, options: DriverCallOptions): Promise<TraceSummary>;
}
