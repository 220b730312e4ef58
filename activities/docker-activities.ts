// Activities that touch one Docker engine; they run on that host's task queue, in a worker next to the engine.
// Each is idempotent per reload id: a retry, or a replay after a worker crash, never makes the agent act twice.
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { createHash } from 'node:crypto';
import { negotiateProtocol, PROGRAMS_DIR, ProtocolVersion } from '../src/agent/protocol';
import { BytecodeError, decodeUnverified } from '../src/bytecode/format';
import type { AgentChannel, AgentOutcomeRead, TraceResult } from '../src/docker/agent-channel';
import { AgentIdentity, batchedAgentLookup, canonicalAgentContainerName, DEFAULT_AGENT_IDENTITY, sortClaims } from '../src/docker/agent-identity';
import { OpenClawDriverError } from '../src/docker/drivers/openclaw-driver';
import type { AgentRuntimeKind, StepwiseRuntimeDriver } from '../src/docker/drivers/runtime-driver';
import { LABEL_RUNTIME, RuntimeDrivers, runtimeKindOf } from '../src/docker/drivers/runtime-drivers';
import { DockerAdapterError } from '../src/docker/errors';
import type { AgentRef, DockerAdapter } from '../src/docker/types';
import type { LogFields, Logger } from '../src/shared/logger';
import { SigningError } from '../src/signing/errors';
import { ProgramSealing, sealForInstall, sealForRestore, sealForRollback } from '../src/signing/sealing';
import {
  MAX_TRACE_BYTES_IN_RESULT,
  MAX_TRACE_LINES_IN_RESULT,
  forwardReloadId,
  ProgramRef,
  rollbackReloadId,
  TraceLineRecord,
  StepTiming,
  TraceSummary,
} from '../src/shared/injection-types';
import { TRACE_HEARTBEAT_INTERVAL_MS } from '../src/shared/timeouts';

/** Largest program read back from an agent (the bytecode format's own bound). */
export const MAX_SNAPSHOT_BYTES = 1024 * 1024;
const MAX_SNAPSHOT_META_BYTES = 2048;
/** Container ids an AGENT_AMBIGUOUS message names at most. */
const MAX_AMBIGUOUS_IDS_NAMED = 4;
/** Containers whose runtime a worker remembers (a container's labels never change); the oldest is forgotten first. */
export const MAX_REMEMBERED_RUNTIMES = 20_000;
/** OpenClaw driver failures a retry can mend: the gateway may answer on the next attempt, a restore may complete. */
const RETRYABLE_DRIVER_ERRORS = new Set(['GATEWAY_UNREACHABLE', 'RESTORE_FAILED']);

/**
 * Where the program an injection replaces is kept, inside the agent (never in workflow history): one slot per agent.
 * Leases let one injection at a time change an agent, so when the next injection snapshots, the previous one can no
 * longer roll back and its copy is overwritten: an agent's disk holds at most one snapshot. The meta file names the
 * reload the snapshot belongs to and whether there was a program at all.
 */
export const SNAPSHOT_PROGRAM_PATH = `${PROGRAMS_DIR}/.previous.bc`;
export const SNAPSHOT_META_PATH = `${PROGRAMS_DIR}/.previous.json`;

/** Builds before the single slot kept one file per injection; their running injections still find it there. */
export function legacyPreviousProgramPath(injectionId: string): string {
  return `${PROGRAMS_DIR}/.previous-${injectionId}.bc`;
}

interface SnapshotMeta {
  v: 1;
  reloadId: string;
  hadPrevious: boolean;
  programId: string | null;
  sha256: string | null;
}

function parseSnapshotMeta(bytes: Buffer): SnapshotMeta | null {
  try {
    const value: unknown = JSON.parse(bytes.toString('utf8'));
    if (typeof value !== 'object' || value === null) return null;
    const m = value as Record<string, unknown>;
    if (m.v !== 1 || typeof m.reloadId !== 'string' || typeof m.hadPrevious !== 'boolean') return null;
    const str = (v: unknown) => (typeof v === 'string' ? v : null);
    return { v: 1, reloadId: m.reloadId, hadPrevious: m.hadPrevious, programId: str(m.programId), sha256: str(m.sha256) };
  } catch {
    return null;
  }
}

/** Where an injection's program is held (programs by reference): the activity asks for the bytes by their sha256. */
export interface ProgramSource {
  get(ref: ProgramRef): Promise<Buffer>;
}

export interface DockerActivityDeps {
  hostName: string;
  logger: Logger;
  docker: Pick<DockerAdapter, 'ping' | 'listAgents' | 'readFile' | 'writeFile' | 'containerState'>;
  channel: AgentChannel;
  programs: ProgramSource;
  /** Seals each program for its agent where it is staged; the private key stays in this worker. */
  sealing: ProgramSealing;
  /** Which labelled container is an agent (src/docker/agent-identity.ts); default `name`. */
  identity?: AgentIdentity;
  /**
   * Drivers for agents that are not the reference agent, picked by the container's dreamnet.runtime label. Without
   * them, a container labelled with another runtime is refused (RUNTIME_UNSUPPORTED) and never touched.
   */
  runtimes?: RuntimeDrivers;
}

/** What a rollback did: restored (with its trace), or found the agent superseded (then nothing was touched). */
export interface RollbackOutcome {
  trace: TraceSummary | null;
  previousProgramId: string | null;
  /** The reload whose program the agent runs now, when it is not this injection's: nothing was touched. */
  supersededBy: string | null;
}

export interface SnapshotResult {
  containerId: string;
  hadPrevious: boolean;
  previousProgramId: string | null;
  logOffset: number;
  /**
   * 2: the agent speaks protocol v2, so nothing was read: the agent keeps what the install replaces and says what it
   * was in its answer (the trace's `replaced`); hadPrevious and previousProgramId here mean nothing yet.
   */
  protocol?: 2;
}

/** Turns adapter errors into activity failures typed by their stable code, retryable or not as the adapter says. */
function asActivityFailure(err: unknown): unknown {
  if (err instanceof DockerAdapterError) {
    return ApplicationFailure.create({ message: err.message, type: err.code, nonRetryable: !err.retryable });
  }
  // A program that cannot be sealed (a dry run, an unverifiable body to restore, malformed bytes) never will be.
  if (err instanceof SigningError || err instanceof BytecodeError) return ApplicationFailure.create({ message: err.message, type: err.code, nonRetryable: true, cause: err });
  if (err instanceof OpenClawDriverError) return ApplicationFailure.create({ message: err.message, type: err.code, nonRetryable: !RETRYABLE_DRIVER_ERRORS.has(err.code) });
  return err;
}

async function classified<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw asActivityFailure(err);
  }
}

/**
 * A rollback waits out a paused or stopped container through its retries (ROLLBACK_MIN_ATTEMPTS): leaving an agent
 * changed is worse than waiting. Only a container that is gone is final for it.
 */
async function classifiedForRollback<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof DockerAdapterError && err.code === 'CONTAINER_NOT_RUNNING') {
      throw ApplicationFailure.create({ message: err.message, type: err.code, nonRetryable: false });
    }
    throw asActivityFailure(err);
  }
}

/** Sets `key` once (a container's labels never change), forgetting the oldest entry past MAX_REMEMBERED_RUNTIMES. */
function rememberBounded<V>(map: Map<string, V>, key: string, value: V): void {
  if (map.has(key)) return;
  if (map.size >= MAX_REMEMBERED_RUNTIMES) map.delete(map.keys().next().value as string);
  map.set(key, value);
}

function programIdOf(bytes: Buffer): string | null {
  try {
    return decodeUnverified(bytes).programId;
  } catch {
    return null;
  }
}

/** Keeps a trace small enough for workflow history: the first lines up to the bounds, and always the final line. */
export function summarizeTrace(result: TraceResult): TraceSummary {
  const lines: TraceLineRecord[] = [];
  let bytes = 0;
  let truncated = result.truncated;
  for (const line of result.lines) {
    if (line === result.final) continue;
    const size = JSON.stringify(line).length;
    if (lines.length >= MAX_TRACE_LINES_IN_RESULT || bytes + size > MAX_TRACE_BYTES_IN_RESULT) {
      truncated = true;
      break;
    }
    lines.push(line as unknown as TraceLineRecord);
    bytes += size;
  }
  const final = result.final ? (result.final as unknown as TraceLineRecord) : null;
  return { lines: final ? [...lines, final] : lines, final, truncated };
}

/** A protocol-v2 answer as the trace a workflow records: bounded like summarizeTrace, with what the agent said besides. */
export function summarizeOutcome(outcome: AgentOutcomeRead): TraceSummary {
  const summary = summarizeTrace({ lines: [...outcome.lines, outcome.final], final: outcome.final, truncated: outcome.truncated });
  return {
    ...summary,
    replaced: outcome.replaced,
    switched: outcome.switched,
    current: outcome.current,
    ...(outcome.restore ? { restore: outcome.restore } : {}),
  };
}

/** Heartbeats every TRACE_HEARTBEAT_INTERVAL_MS while a driver call runs (it has no poll callback of its own). */
async function heartbeating<T>(fn: () => Promise<T>): Promise<T> {
  const context = Context.current();
  const timer = setInterval(() => context.heartbeat({ waiting: true }), TRACE_HEARTBEAT_INTERVAL_MS);
  try {
    return await fn();
  } finally {
    clearInterval(timer);
  }
}

/** Heartbeats while a trace is read, and turns the activity's cancellation into an abort of the read. */
function heartbeatingTraceOptions(timeoutMs: number) {
  const context = Context.current();
  let lastBeat = 0;
  return {
    timeoutMs,
    signal: context.cancellationSignal,
    onPoll: (linesSoFar: number) => {
      const now = Date.now();
      if (now - lastBeat >= TRACE_HEARTBEAT_INTERVAL_MS) {
        lastBeat = now;
        context.heartbeat({ linesSoFar });
      }
    },
  };
}

/** Why a trace capture ended without the agent's final line: it was cancelled, or TRACE_TIMEOUT passed. */
function noFinalLine(input: { reloadId: string; timeoutMs: number }, result: TraceResult): ApplicationFailure {
  if (Context.current().cancellationSignal.aborted) return ApplicationFailure.create({ message: 'trace capture cancelled', type: 'CANCELLED' });
  return ApplicationFailure.nonRetryable(
    `the agent wrote no final trace line for ${input.reloadId} within TRACE_TIMEOUT (${input.timeoutMs} ms; ${result.lines.length} lines seen)`,
    'TRACE_TIMEOUT',
  );
}

function finalError(final: TraceLineRecord): { code: string; message: string } {
  const error = final.error;
  if (error && typeof error === 'object') {
    const e = error as { code?: unknown; message?: unknown };
    return { code: String(e.code ?? 'AGENT_ERROR'), message: String(e.message ?? 'the agent reported an error') };
  }
  return { code: 'AGENT_ERROR', message: typeof error === 'string' ? error : 'the agent reported an error' };
}

/** Codes an agent uses when it refuses a program rather than failing while running it (docs/agent-protocol.md). */
function isRefusal(code: string): boolean {
  return code.startsWith('BC_') || code.startsWith('ENVELOPE_') || code.startsWith('RELOAD_') || code === 'PROGRAM_UNREADABLE';
}

/**
 * What a log line of the running activity carries: the injection and agent it works for, read from its workflow id
 * (`<injectionId>/<agentId>` for an agent's child, `<injectionId>/<agentId>/rollback`, `<injectionId>` for the swarm).
 */
function activityScope(hostName: string): LogFields {
  const info = Context.current().info;
  const [injectionId, agentId] = (info.workflowExecution?.workflowId ?? '').split('/');
  return { ...(injectionId ? { injectionId } : {}), ...(agentId ? { agentId } : {}), activity: info.activityType, attempt: info.attempt, host: hostName, taskQueue: info.taskQueue };
}

export function createDockerActivities(deps: DockerActivityDeps) {
  const { docker, channel } = deps;

  /** Runs one step and logs one line for it, done (info) or failed (warn), with its ids and duration. */
  async function logged<T>(step: () => Promise<T>): Promise<T> {
    const scope = activityScope(deps.hostName);
    const startedAt = Date.now();
    try {
      const result = await step();
      deps.logger.info('docker step done', { ...scope, ms: Date.now() - startedAt });
      return result;
    } catch (err) {
      const type = err instanceof ApplicationFailure ? err.type : undefined;
      deps.logger.warn('docker step failed', { ...scope, ms: Date.now() - startedAt, errorType: type ?? null, error: err });
      throw err;
    }
  }

  const identity = deps.identity ?? DEFAULT_AGENT_IDENTITY;
  /** Per-agent lookups of concurrent children share list calls (src/docker/agent-identity.ts). */
  const lookUp = batchedAgentLookup((agentIds) => docker.listAgents({ agentIds }));

  /** Says which containers claimed an agent id but are not that agent, so an operator can find a copy or a misnamed one. */
  function warnIgnored(ignored: readonly AgentRef[]): void {
    if (ignored.length === 0) return;
    deps.logger.warn('containers carry an agent label but are not named as that agent: ignored', {
      host: deps.hostName,
      count: ignored.length,
      containers: ignored.slice(0, MAX_AMBIGUOUS_IDS_NAMED).map((r) => ({ agentId: r.agentId, containerName: r.containerName, containerId: r.containerId.slice(0, 12) })),
    });
  }

  /**
   * The one container that is this agent. Under `name` identity it is the labelled container named
   * openclaw-agent-<id>, unique per engine: a copy of the labels under another name is ignored. Under `label` identity
   * two running containers claiming one id are AGENT_AMBIGUOUS: neither is touched (the injector cannot tell the agent
   * from an impostor). A rollback goes to the container id its snapshot recorded, never to a fresh lookup.
   */
  async function containerOf(agentId: string): Promise<{ containerId: string; runtime: AgentRuntimeKind; protocol: ProtocolVersion }> {
    const { agents: matches, ignored } = sortClaims(await lookUp(agentId), identity);
    warnIgnored(ignored);
    const running = matches.filter((m) => m.running);
    if (running.length > 1) {
      const ids = running.slice(0, MAX_AMBIGUOUS_IDS_NAMED).map((m) => m.containerId.slice(0, 12)).join(', ');
      throw ApplicationFailure.nonRetryable(
        `${running.length} running containers carry the label dreamnet.agent=${agentId} on host ${deps.hostName} (${ids}): none was touched; remove the impostor`,
        'AGENT_AMBIGUOUS',
      );
    }
    const agent = running[0] ?? matches[0];
    if (!agent && ignored.length > 0) {
      throw ApplicationFailure.nonRetryable(
        `no container named ${canonicalAgentContainerName(agentId)} carries the label dreamnet.agent=${agentId} on host ${deps.hostName}; ` +
          `${ignored.length} otherwise named container(s) claim it (${ignored.slice(0, MAX_AMBIGUOUS_IDS_NAMED).map((r) => r.containerName).join(', ')}) and were ignored: ` +
          `rename the agent's container (docker rename) or set OPENCLAW_AGENT_IDENTITY=label`,
        'AGENT_NOT_FOUND',
      );
    }
    if (!agent) throw ApplicationFailure.nonRetryable(`no container carries the label dreamnet.agent=${agentId} on host ${deps.hostName}`, 'AGENT_NOT_FOUND');
    if (!agent.running) throw ApplicationFailure.create({ message: `agent ${agentId}'s container is not running`, type: 'CONTAINER_NOT_RUNNING', nonRetryable: false });
    const runtime = remember(agent.containerId, agent.runtime);
    return { containerId: agent.containerId, runtime, protocol: rememberProtocol(agent.containerId, agent.protocol) };
  }

  /** containerId -> the protocol its label offers (fixed at creation), as runtimes above. */
  const protocols = new Map<string, ProtocolVersion>();

  function rememberProtocol(containerId: string, label: string | undefined): ProtocolVersion {
    const version = negotiateProtocol(label);
    rememberBounded(protocols, containerId, version);
    return version;
  }

  /** The protocol of a container a step knows only by id: remembered from its lookup, or read from its label. */
  async function protocolAt(containerId: string): Promise<ProtocolVersion> {
    const known = protocols.get(containerId);
    if (known) return known;
    const state = await classified(() => docker.containerState(containerId));
    return rememberProtocol(containerId, state.protocol);
  }

  /** containerId -> runtime, as its label said (labels are fixed at creation); insertion order is age. */
  const runtimes = new Map<string, AgentRuntimeKind>();

  /** The runtime a label names, remembered for the container; a runtime this worker cannot drive is refused. */
  function remember(containerId: string, label: string | undefined): AgentRuntimeKind {
    const kind = runtimeKindOf(label);
    if (kind === null || (kind !== 'reference' && !deps.runtimes)) {
      throw ApplicationFailure.nonRetryable(
        `container ${containerId.slice(0, 12)} is labelled ${LABEL_RUNTIME}=${String(label).slice(0, 64)}, a runtime this worker has no driver for; it was not touched`,
        'RUNTIME_UNSUPPORTED',
      );
    }
    rememberBounded(runtimes, containerId, kind);
    return kind;
  }

  /**
   * The runtime of a container a step knows only by id: remembered from the lookup that found it, or read from its
   * label (a worker that did not run that lookup, e.g. after a restart). Without drivers, every agent is a reference one
   * (containerOf refused any other before it got an id).
   */
  async function runtimeAt(containerId: string): Promise<AgentRuntimeKind> {
    const known = runtimes.get(containerId);
    if (known) return known;
    if (!deps.runtimes) return 'reference';
    const label = await classified(() => deps.runtimes!.runtimeLabelOf(containerId));
    return remember(containerId, label);
  }

  /** The driver for a runtime other than the reference agent's. */
  function driverFor(runtime: Exclude<AgentRuntimeKind, 'reference'>): StepwiseRuntimeDriver {
    if (!deps.runtimes) throw ApplicationFailure.nonRetryable(`this worker has no driver for runtime ${runtime}`, 'RUNTIME_UNSUPPORTED');
    return deps.runtimes[runtime];
  }

  /** Seals the compiled program for this agent and reload, and stages it; the agent renames it into place on reload. */
  async function injectProgram(input: { containerId: string; agentId: string; reloadId: string; bytecodeBase64?: string; program?: ProgramRef; sha256: string }): Promise<void> {
    const bytes = input.program ? await deps.programs.get(input.program) : Buffer.from(input.bytecodeBase64 ?? '', 'base64');
    const actual = createHash('sha256').update(bytes).digest('hex');
    if (actual !== input.sha256) throw ApplicationFailure.nonRetryable(`program bytes hash to ${actual}, expected ${input.sha256}`, 'PROGRAM_CORRUPTED');
    const runtime = await runtimeAt(input.containerId);
    await classified(async () => {
      const sealed = await sealForInstall(deps.sealing, { compiled: bytes, agentId: input.agentId, reloadId: input.reloadId });
      if (runtime !== 'reference') {
        // Only what this worker sealed is written: the bundle carries the sealed bytecode and its digest.
        const sha256 = createHash('sha256').update(sealed.bytes).digest('hex');
        await driverFor(runtime).stage(input.containerId, input.reloadId, { programId: sealed.programId ?? '', sha256, bytes: sealed.bytes });
        return;
      }
      // v2: the program and its signal in one archive; reloadAgent then has nothing left to do.
      if ((await protocolAt(input.containerId)) === 2) await channel.sendV2(input.containerId, input.reloadId, sealed.bytes);
      else await channel.stage(input.containerId, input.reloadId, sealed.bytes);
    });
  }

  async function reloadAgent(input: { containerId: string; reloadId: string }): Promise<void> {
    const runtime = await runtimeAt(input.containerId);
    if (runtime !== 'reference') {
      await classified(() => driverFor(runtime).switchTo(input.containerId, input.reloadId));
      return;
    }
    if ((await protocolAt(input.containerId)) === 2) return; // the signal went with the program (injectProgram)
    await classified(() => channel.reload(input.containerId, input.reloadId, true));
  }

  /**
   * The first part of a trace capture, run as a local activity next to the workflow: reads the trace for at most
   * `windowMs` and returns null when the agent has not written its final line by then (the workflow goes on with
   * captureTrace, which heartbeats and can be cancelled at any moment). Most agents answer well inside the window,
   * which saves an activity dispatch and a workflow task per agent. When the window is the whole TRACE_TIMEOUT, no
   * final line is TRACE_TIMEOUT, as in captureTrace.
   */
  async function captureTraceBriefly(input: { containerId: string; reloadId: string; fromOffset: number; windowMs: number; timeoutMs: number }): Promise<TraceSummary | null> {
    const windowMs = Math.min(input.windowMs, input.timeoutMs);
    const runtime = await runtimeAt(input.containerId);
    if (runtime !== 'reference') {
      // One gateway answer takes seconds: more than the local window. The heartbeating captureTrace asks instead.
      if (windowMs < input.timeoutMs) return null;
      return driverTrace(runtime, input.containerId, input.reloadId, windowMs);
    }
    const signal = Context.current().cancellationSignal;
    if ((await protocolAt(input.containerId)) === 2) {
      const outcome = await classified(() => channel.readOutcome(input.containerId, input.reloadId, { timeoutMs: windowMs, signal }));
      if (outcome) return summarizeOutcome(outcome);
      if (windowMs < input.timeoutMs && !signal.aborted) return null;
      throw noFinalLine(input, { lines: [], final: null, truncated: false });
    }
    const result = await classified(() => channel.readTrace(input.containerId, input.reloadId, input.fromOffset, { timeoutMs: windowMs, signal }));
    if (result.final) return summarizeTrace(result);
    if (windowMs < input.timeoutMs && !signal.aborted) return null;
    throw noFinalLine(input, result);
  }

  /** The agent said it completed, under the right program id, and now runs it. */
  async function verifyInjection(input: { containerId: string; reloadId: string; programId: string; trace: TraceSummary }): Promise<void> {
    const final = input.trace.final;
    if (!final) throw ApplicationFailure.nonRetryable('no final trace line to verify', 'VERIFY_FAILED');
    if (final.status !== 'completed') {
      const { code, message } = finalError(final);
      throw ApplicationFailure.nonRetryable(`${code}: ${message}`, isRefusal(code) ? 'PROGRAM_REFUSED' : 'PROGRAM_FAILED');
    }
    if (final.programId !== input.programId) {
      throw ApplicationFailure.nonRetryable(`the agent ran program ${String(final.programId)}, expected ${input.programId}`, 'VERIFY_FAILED');
    }
    const runtime = await runtimeAt(input.containerId);
    // v2: the answer said what runs now, read in the same call as the final line.
    const current =
      input.trace.current !== undefined
        ? input.trace.current
        : await classified(() => (runtime === 'reference' ? channel.current(input.containerId) : driverFor(runtime).current(input.containerId)));
    if (current?.reloadId !== input.reloadId || current.programId !== input.programId) {
      throw ApplicationFailure.nonRetryable(
        `the agent's CURRENT names program ${String(current?.programId)} (reload ${String(current?.reloadId)}), expected ${input.programId} (${input.reloadId})`,
        'VERIFY_FAILED',
      );
    }
  }

  /**
   * The forward path after the snapshot in one local activity (children started since FORWARD_IN_ONE_STEP_PATCH):
   * inject, reload, the agent's answer within `windowMs`, and verify. As four local activities they cost four round
   * trips through the worker and four marker events per agent, CPU that on a saturated host comes out of Docker's
   * (BENCHMARKS.md, tuning log). Every step is idempotent, so a retry of the whole is safe: the agent applies a reload
   * once, and a staged program or signal written again for the same reload changes nothing. No answer within the
   * window returns a null trace, and the workflow waits on in the heartbeating captureTrace, then verifies.
   */
  async function injectAndConfirm(input: ConfirmInput): Promise<ConfirmResult> {
    const timings: StepTiming[] = [];
    const step = async <T>(name: StepTiming['step'], run: () => Promise<T>): Promise<T> => {
      const startedAt = Date.now();
      try {
        return await run();
      } finally {
        timings.push({ step: name, ms: Date.now() - startedAt });
      }
    };
    const { containerId, reloadId } = input;
    await step('inject', () =>
      injectProgram(
        input.program
          ? { containerId, agentId: input.agentId, reloadId, program: input.program, sha256: input.sha256 }
          : { containerId, agentId: input.agentId, reloadId, bytecodeBase64: input.bytecodeBase64, sha256: input.sha256 },
      ),
    );
    await step('reload', () => reloadAgent({ containerId, reloadId }));
    const trace = await step('trace', () => captureTraceBriefly({ containerId, reloadId, fromOffset: input.fromOffset, windowMs: input.windowMs, timeoutMs: input.timeoutMs }));
    if (!trace) return { timings, trace: null, failure: null };
    try {
      await step('verify', () => verifyInjection({ containerId, reloadId, programId: input.programId, trace }));
    } catch (err) {
      // What the answer refused is final: returned beside the trace, so the record keeps what the agent said.
      if (err instanceof ApplicationFailure && err.nonRetryable && err.type) return { timings, trace, failure: { type: err.type, message: err.message } };
      throw err;
    }
    return { timings, trace, failure: null };
  }

  return withStepLogs(logged, {
    async dockerVersion(): Promise<{ host: string; version: string }> {
      const { version } = await classified(() => docker.ping());
      return { host: deps.hostName, version };
    },

    /** Agents on this host: a group, or which of the given ids exist here. */
    async listAgents(selector: { group?: string; agentIds?: string[] }): Promise<{ host: string; agentIds: string[] }> {
      const { agents, ignored } = sortClaims(await classified(() => docker.listAgents(selector)), identity);
      warnIgnored(ignored);
      return { host: deps.hostName, agentIds: agents.map((a) => a.agentId) };
    },

    /** Copies the agent's current program aside, inside the agent, and notes where its trace log ends. */
    async snapshotAgent(input: { agentId: string; injectionId: string }): Promise<SnapshotResult> {
      return classified(async () => {
        const { containerId, runtime, protocol } = await containerOf(input.agentId);
        if (runtime !== 'reference') {
          // The driver keeps what a switch replaces inside the agent itself (a record per reload, see docs/openclaw.md):
          // here the running revision is only read, for the result. A retry after the switch already happened cannot
          // tell what it replaced, and says nothing.
          const current = await driverFor(runtime).current(containerId);
          const applied = current?.reloadId === forwardReloadId(input.injectionId);
          return { containerId, hadPrevious: !applied && current !== null, previousProgramId: applied ? null : (current?.programId ?? null), logOffset: 0 };
        }
        // v2: the agent keeps what the install replaces and names it in its answer; nothing to read or copy here.
        if (protocol === 2) return { containerId, hadPrevious: false, previousProgramId: null, logOffset: 0, protocol: 2 };
        const snapshot = await channel.snapshot(containerId);
        const metaRead = await docker.readFile(containerId, SNAPSHOT_META_PATH, MAX_SNAPSHOT_META_BYTES);
        const kept = metaRead.found ? parseSnapshotMeta(metaRead.content) : null;
        // A retry after the agent already switched must not take the new program for the old one.
        const alreadyApplied = snapshot.current?.reloadId === input.injectionId;
        if (kept?.reloadId === input.injectionId) {
          return { containerId, hadPrevious: kept.hadPrevious, previousProgramId: kept.programId, logOffset: alreadyApplied ? 0 : snapshot.logOffset };
        }
        if (alreadyApplied) return { containerId, hadPrevious: false, previousProgramId: null, logOffset: 0 };
        const previousProgramId = snapshot.program ? programIdOf(snapshot.program) : null;
        // The bytes first, then the meta that points at them: a meta naming this reload always has its bytes beside it.
        if (snapshot.program) await docker.writeFile(containerId, SNAPSHOT_PROGRAM_PATH, snapshot.program, 0o644);
        const meta: SnapshotMeta = {
          v: 1,
          reloadId: input.injectionId,
          hadPrevious: snapshot.program !== null,
          programId: previousProgramId,
          sha256: snapshot.current?.sha256 ?? null,
        };
        await docker.writeFile(containerId, SNAPSHOT_META_PATH, Buffer.from(JSON.stringify(meta) + '\n'), 0o644);
        return { containerId, hadPrevious: snapshot.program !== null, previousProgramId, logOffset: snapshot.logOffset };
      });
    },

    injectProgram,
    reloadAgent,

    /** Reads the agent's trace for this reload until its final line, heartbeating; no final line in time is TRACE_TIMEOUT. */
    async captureTrace(input: { containerId: string; reloadId: string; fromOffset: number; timeoutMs: number }): Promise<TraceSummary> {
      const runtime = await runtimeAt(input.containerId);
      if (runtime !== 'reference') return driverTrace(runtime, input.containerId, input.reloadId, input.timeoutMs);
      if ((await protocolAt(input.containerId)) === 2) {
        const outcome = await classified(() => channel.readOutcome(input.containerId, input.reloadId, heartbeatingTraceOptions(input.timeoutMs)));
        if (!outcome) throw noFinalLine(input, { lines: [], final: null, truncated: false });
        return summarizeOutcome(outcome);
      }
      const result = await classified(() =>
        channel.readTrace(input.containerId, input.reloadId, input.fromOffset, heartbeatingTraceOptions(input.timeoutMs)),
      );
      if (!result.final) throw noFinalLine(input, result);
      return summarizeTrace(result);
    },

    captureTraceBriefly,
    verifyInjection,
    injectAndConfirm,

    /**
     * Restores the program the injection replaced (or no program, if there was none), reloads, and checks that the
     * agent runs it again. Idempotent: a retry after the agent already reverted only reads the trace back.
     */
    async rollbackAgent(input: { agentId: string; injectionId: string; containerId: string | null; timeoutMs: number }): Promise<RollbackOutcome> {
      return classifiedForRollback(async () => {
        const containerId = input.containerId ?? (await containerOf(input.agentId)).containerId;
        const runtime = await runtimeAt(containerId);
        if (runtime !== 'reference') return driverRollBack(driverFor(runtime), containerId, input);
        return (await protocolAt(containerId)) === 2 ? restoreV2(containerId, input) : rollBack(containerId, input);
      });
    },

    /**
     * For a child stopped before its history recorded a snapshot. Its steps run as local activities, which are recorded
     * only when their workflow task completes; a task that failed (a worker crash, or the server refusing to complete
     * the workflow because an abort arrived meanwhile) leaves no record of steps that did run. So the agent itself is
     * asked: when reload `<injectionId>` left a mark on it (staged, signalled or switched to), it is rolled back as
     * rollbackAgent does; when not, nothing is changed and the result is null.
     */
    async undoUnrecordedSteps(input: { agentId: string; injectionId: string; timeoutMs: number }): Promise<RollbackOutcome | null> {
      return classifiedForRollback(async () => {
        const { containerId, runtime } = await containerOf(input.agentId);
        if (runtime !== 'reference') {
          const driver = driverFor(runtime);
          if (!(await driver.touchedBy(containerId, forwardReloadId(input.injectionId)))) return null;
          return driverRollBack(driver, containerId, input);
        }
        if (!(await channel.touchedBy(containerId, input.injectionId))) return null;
        return (await protocolAt(containerId)) === 2 ? restoreV2(containerId, input) : rollBack(containerId, input);
      });
    },
  });

  /**
   * What the gateway said while the driver waited for it to confirm the reload, as the agent's trace (bounded by the
   * driver). The final line says completed or why not; verifyInjection judges it as it judges a reference agent's.
   */
  async function driverTrace(runtime: Exclude<AgentRuntimeKind, 'reference'>, containerId: string, reloadId: string, timeoutMs: number): Promise<TraceSummary> {
    const signal = Context.current().cancellationSignal;
    try {
      return await heartbeating(() => classified(() => driverFor(runtime).verify(containerId, reloadId, { timeoutMs, signal })));
    } catch (err) {
      if (signal.aborted) throw ApplicationFailure.create({ message: 'trace capture cancelled', type: 'CANCELLED' });
      throw err;
    }
  }

  /**
   * rollBack for a driven runtime: the driver's compare-and-swap restore of what the forward reload replaced (its own
   * record inside the agent), confirmed by the agent; superseded (another reload is in effect) touches nothing.
   */
  async function driverRollBack(driver: StepwiseRuntimeDriver, containerId: string, input: { agentId: string; injectionId: string; timeoutMs: number }): Promise<RollbackOutcome> {
    const signal = Context.current().cancellationSignal;
    const restored = await heartbeating(() => driver.restore(containerId, forwardReloadId(input.injectionId), { timeoutMs: input.timeoutMs, signal }));
    if (restored.outcome === 'superseded') return { trace: null, previousProgramId: null, supersededBy: restored.current?.reloadId ?? 'nothing' };
    const previousProgramId = restored.current?.programId ?? null;
    if (restored.outcome === 'nothing-to-undo') return { trace: null, previousProgramId, supersededBy: null };
    deps.logger.info('agent rolled back', { agentId: input.agentId, injectionId: input.injectionId, host: deps.hostName, programId: previousProgramId, runtime: driver.runtime });
    return { trace: restored.trace, previousProgramId, supersededBy: null };
  }

  /**
   * rollbackAgent's work on a v2 agent: a signed restore for `<R>.rollback`, which the agent applies as its own
   * compare-and-swap from its record of what R replaced (docs/agent-protocol.md, "Restore"). One read of CURRENT first,
   * for the sequence to seal above and to find a rollback already done (a retry); then one archive and the answer.
   */
  async function restoreV2(containerId: string, input: { agentId: string; injectionId: string; timeoutMs: number }): Promise<RollbackOutcome> {
    const reloadId = rollbackReloadId(input.injectionId);
    const current = await channel.current(containerId);
    if (current?.reloadId !== reloadId) {
      const sealed = await sealForRestore(deps.sealing, { agentId: input.agentId, reloadId, agentLastSequence: current?.sequence ?? null });
      await channel.sendV2(containerId, reloadId, sealed.bytes);
    }
    const outcome = await channel.readOutcome(containerId, reloadId, heartbeatingTraceOptions(input.timeoutMs));
    if (!outcome) throw ApplicationFailure.create({ message: `no answer to ${reloadId} within ${input.timeoutMs} ms`, type: 'TRACE_TIMEOUT', nonRetryable: false });
    const trace = summarizeOutcome(outcome);
    const now = outcome.current;
    switch (outcome.restore) {
      case 'superseded':
        return { trace: null, previousProgramId: null, supersededBy: now?.reloadId ?? 'nothing' };
      case 'nothing-to-undo':
        return { trace: null, previousProgramId: now?.programId ?? null, supersededBy: null };
      case 'restored':
        if (now?.reloadId !== reloadId) {
          throw ApplicationFailure.create({ message: `after the restore the agent names reload ${String(now?.reloadId)}, expected ${reloadId}`, type: 'ROLLBACK_VERIFY_FAILED', nonRetryable: false });
        }
        deps.logger.info('agent rolled back', { agentId: input.agentId, injectionId: input.injectionId, host: deps.hostName, programId: now.programId, protocol: 2 });
        return { trace, previousProgramId: now.programId, supersededBy: null };
      default: {
        // No record of what R replaced, a kept program that does not verify, or a refused restore: left as it is.
        const { code, message } = outcome.final.error && typeof outcome.final.error === 'object' ? outcome.final.error : { code: 'AGENT_ERROR', message: String(outcome.final.error ?? 'no restore') };
        throw ApplicationFailure.nonRetryable(`the agent did not restore what ${input.injectionId} replaced (${code}: ${message}); it was left as it is`, 'NO_SNAPSHOT');
      }
    }
  }

  /**
   * rollbackAgent's work on a known container, as a compare-and-swap: the agent is restored only while it still runs
   * what this injection put there (CURRENT names the reload); when it runs another injection's program, nothing is
   * touched and the outcome says who superseded it. A snapshot that should exist but does not is NO_SNAPSHOT: the
   * agent is left as it is, never cleared on a guess.
   */
  async function rollBack(containerId: string, input: { agentId: string; injectionId: string; timeoutMs: number }): Promise<RollbackOutcome> {
    const reloadId = rollbackReloadId(input.injectionId);
    const snapshot = await channel.snapshot(containerId);
    const current = snapshot.current;
    const metaRead = await docker.readFile(containerId, SNAPSHOT_META_PATH, MAX_SNAPSHOT_META_BYTES);
    const meta = metaRead.found ? parseSnapshotMeta(metaRead.content) : null;
    const ours = meta?.reloadId === input.injectionId ? meta : null;
    if (current?.reloadId === reloadId) {
      // Already reverted (a retry): read the rollback's trace back.
      const result = await channel.readTrace(containerId, reloadId, 0, heartbeatingTraceOptions(input.timeoutMs));
      return { trace: result.final ? summarizeTrace(result) : null, previousProgramId: current.programId, supersededBy: null };
    }
    if (current?.reloadId !== input.injectionId) {
      // The agent does not run this injection's program. If it runs what the injection replaced (the agent put it back
      // itself after the program failed), there is nothing to undo; otherwise another reload superseded it.
      const runsReplaced = ours !== null && (ours.hadPrevious ? current !== null && current.programId === ours.programId : current === null || current.programId === null);
      if (runsReplaced) return { trace: null, previousProgramId: ours.programId, supersededBy: null };
      return { trace: null, previousProgramId: null, supersededBy: current?.reloadId ?? 'nothing' };
    }
    let previous: Buffer | null = null;
    let expectedProgramId: string | null = null;
    if (ours) {
      if (ours.hadPrevious) {
        const read = await docker.readFile(containerId, SNAPSHOT_PROGRAM_PATH, MAX_SNAPSHOT_BYTES);
        if (!read.found) throw ApplicationFailure.nonRetryable(`the snapshot of the program ${input.injectionId} replaced (${SNAPSHOT_PROGRAM_PATH}) is missing; the agent was left as it is`, 'NO_SNAPSHOT');
        previous = read.content;
        expectedProgramId = programIdOf(previous);
      }
    } else {
      const legacy = await docker.readFile(containerId, legacyPreviousProgramPath(input.injectionId), MAX_SNAPSHOT_BYTES);
      if (!legacy.found) throw ApplicationFailure.nonRetryable(`no snapshot of what ${input.injectionId} replaced is on the agent; the agent was left as it is`, 'NO_SNAPSHOT');
      previous = legacy.content;
      expectedProgramId = programIdOf(previous);
    }
    // The replaced program re-sealed for the rollback reload (only if a trusted key signed it), or a signed clear.
    const sealed = await sealForRollback(deps.sealing, { previous, agentId: input.agentId, reloadId, agentLastSequence: current.sequence ?? null });
    await channel.stage(containerId, reloadId, sealed.bytes);
    await channel.reload(containerId, reloadId, true);
    const result = await channel.readTrace(containerId, reloadId, snapshot.logOffset, heartbeatingTraceOptions(input.timeoutMs));
    if (!result.final) {
      throw ApplicationFailure.create({ message: `no final trace line for ${reloadId} within ${input.timeoutMs} ms`, type: 'TRACE_TIMEOUT', nonRetryable: false });
    }
    const after = await channel.current(containerId);
    if ((after?.programId ?? null) !== expectedProgramId) {
      throw ApplicationFailure.create({
        message: `after rollback the agent runs ${String(after?.programId)}, expected ${String(expectedProgramId)}`,
        type: 'ROLLBACK_VERIFY_FAILED',
        nonRetryable: false,
      });
    }
    // Nothing can need this snapshot any more: the disk keeps no copy past its rollback.
    if (ours?.hadPrevious) await docker.writeFile(containerId, SNAPSHOT_PROGRAM_PATH, Buffer.alloc(0), 0o644);
    deps.logger.info('agent rolled back', { agentId: input.agentId, injectionId: input.injectionId, host: deps.hostName, programId: expectedProgramId });
    return { trace: summarizeTrace(result), previousProgramId: expectedProgramId, supersededBy: null };
  }
}

type ActivityFunction = (...args: never[]) => Promise<unknown>;

/** The same activities, each running inside `logged` (one log line per step); names and signatures unchanged. */
/** What injectAndConfirm is given: the inject step's input, the answer's window and the program to verify. */
export interface ConfirmInput {
  containerId: string;
  agentId: string;
  reloadId: string;
  program?: ProgramRef;
  bytecodeBase64?: string;
  sha256: string;
  programId: string;
  fromOffset: number;
  windowMs: number;
  timeoutMs: number;
}

/** What injectAndConfirm did: each step's time, the agent's answer, and a refusal that came with the answer. */
export interface ConfirmResult {
  /** inject, reload, trace (the window's part) and, when the agent answered, verify, in that order. */
  timings: StepTiming[];
  /** The agent's trace for the reload; null when it had not answered within the window. */
  trace: TraceSummary | null;
  /** Verify's non-retryable failure (the agent failed, refused, or runs another program), with its type. */
  failure: { type: string; message: string } | null;
}

function withStepLogs<A extends Record<string, ActivityFunction>>(logged: <T>(step: () => Promise<T>) => Promise<T>, activities: A): A {
  const wrapped: Record<string, ActivityFunction> = {};
  for (const [name, activity] of Object.entries(activities)) wrapped[name] = (...args) => logged(() => activity(...args));
  return wrapped as A;
}

export type DockerActivities = ReturnType<typeof createDockerActivities>;
