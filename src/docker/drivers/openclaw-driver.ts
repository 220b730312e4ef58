// The OpenClaw gateway as an agent runtime: the program goes in as a managed workspace skill, switched by renames
// inside skills/, verified through the gateway's own skills.status, restored by compare-and-swap.
import { setTimeout as delay } from 'node:timers/promises';
import { renderSkillBundle, SKILL_FILE, SkillBundle, SkillBundleError, DEFAULT_SKILL_NAME } from '../../openclaw/skill-bundle';
import { INCOMING_PREFIX, switchArgv, SwitchOp } from '../../openclaw/skill-switch-script';
import { MAX_TRACE_BYTES_IN_RESULT, MAX_TRACE_LINES_IN_RESULT, TraceLineRecord, TraceSummary } from '../../shared/injection-types';
import { DockerAdapterError, isDockerAdapterError } from '../errors';
import type { DockerAdapter } from '../types';
import type { DriverCallOptions, DriverProgram, InstallResult, RestoreResult, RunningProgramRef, StepwiseRuntimeDriver } from './runtime-driver';

/** Where the offline image (scripts/build-openclaw-image.sh) and src/openclaw/Dockerfile put things. */
export const OPENCLAW_DEFAULTS = {
  skillsDir: '/home/node/.openclaw/workspace/skills',
  nodePath: '/usr/local/bin/node',
  cliPath: '/opt/openclaw/node_modules/openclaw/openclaw.mjs',
} as const;
/** One switch/restore/inspect exec: file renames only. */
export const SWITCH_EXEC_TIMEOUT_MS = 20_000;
/** One skills.status call starts the OpenClaw CLI: about 3 s in a container on an idle host, 10-20 s on a loaded one. */
export const STATUS_CALL_TIMEOUT_MS = 45_000;
export const STATUS_EXEC_MARGIN_MS = 5_000;
export const VERIFY_POLL_INTERVAL_MS = 500;
export const MAX_VERIFY_POLLS = 60;
const MAX_SCRIPT_OUTPUT_BYTES = 64 * 1024;
/** How long after a script that failed with no answer the container's state is asked again. */
const KILLED_RECHECK_MS = 1_000;

export type OpenClawDriverErrorCode =
  | 'SKILL_INELIGIBLE'
  | 'SKILL_NOT_LOADED'
  | 'SKILL_MISMATCH'
  | 'SKILL_NOT_OURS'
  | 'GATEWAY_UNREACHABLE'
  | 'SWITCH_FAILED'
  | 'RESTORE_FAILED'
  | 'BUNDLE_INVALID';

export class OpenClawDriverError extends Error {
  constructor(
    readonly code: OpenClawDriverErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'OpenClawDriverError';
  }
}

export interface OpenClawDriverOptions {
  skillsDir?: string;
  nodePath?: string;
  cliPath?: string;
  skillName?: string;
}

interface Manifest {
  programId: string;
  reloadId: string;
  bytecodeSha256: string;
  skillSha256: string;
  bundleSha256?: string;
}

interface InspectReport {
  live: 'none' | 'ours' | 'foreign';
  manifest: Manifest | null;
  /** The live SKILL.md's front matter description (ours only). */
  description?: string | null;
  records: { stage: boolean; prev: boolean; none: boolean; restored: boolean };
  incoming: boolean;
}

interface StatusReport {
  reachable: boolean;
  error?: string;
  listed?: boolean;
  skills?: number;
  eligible?: boolean;
  disabled?: boolean;
  blockedByAllowlist?: boolean;
  source?: string | null;
  filePath?: string | null;
  description?: string | null;
  fileDescription?: string | null;
  fileSha256?: string | null;
  missing?: Record<string, string[]>;
}

/** What the gateway must report once a revision is in effect; `null` expects the managed skill to be absent. */
type Expected = { description: string | null; skillSha256: string } | null;

type VerifyOutcome = { ok: true } | { ok: false; code: OpenClawDriverErrorCode; message: string };

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function refOf(manifest: Manifest | null | undefined): RunningProgramRef | null {
  return manifest ? { programId: manifest.programId, reloadId: manifest.reloadId, sha256: manifest.bytecodeSha256 } : null;
}

/** Keeps a trace under the result bounds: the first lines and the final one, never more than the byte budget. */
class TraceBuilder {
  private readonly lines: TraceLineRecord[] = [];
  private bytes = 0;
  private truncated = false;
  private step = 0;
  private readonly startedAt = Date.now();

  constructor(
    private readonly reloadId: string,
    private readonly programId: string | null,
  ) {}

  add(instruction: string, status: 'completed' | 'error', detail: Record<string, unknown>): void {
    this.step += 1;
    const line: TraceLineRecord = { v: 1, injectionId: this.reloadId, programId: this.programId, runtime: 'openclaw', step: this.step, instruction, status, ...detail, ts: new Date().toISOString() };
    const size = Buffer.byteLength(JSON.stringify(line));
    if (this.lines.length >= MAX_TRACE_LINES_IN_RESULT - 1 || this.bytes + size > MAX_TRACE_BYTES_IN_RESULT / 2) {
      this.truncated = true;
      return;
    }
    this.lines.push(line);
    this.bytes += size;
  }

  finish(error: { code: string; message: string } | null): TraceSummary {
    const final: TraceLineRecord = {
      v: 1,
      injectionId: this.reloadId,
      programId: this.programId,
      runtime: 'openclaw',
      final: true,
      status: error ? 'error' : 'completed',
      steps: this.step,
      durationMs: Date.now() - this.startedAt,
      ...(error ? { error: { code: error.code, message: error.message.slice(0, 500) } } : {}),
      ts: new Date().toISOString(),
    };
    return { lines: [...this.lines], final, truncated: this.truncated };
  }
}

export class OpenClawDriver implements StepwiseRuntimeDriver {
  readonly runtime = 'openclaw' as const;
  private readonly skillsDir: string;
  private readonly nodePath: string;
  private readonly cliPath: string;
  private readonly skillName: string;

  constructor(
    private readonly adapter: DockerAdapter,
    options: OpenClawDriverOptions = {},
  ) {
    this.skillsDir = options.skillsDir ?? OPENCLAW_DEFAULTS.skillsDir;
    this.nodePath = options.nodePath ?? OPENCLAW_DEFAULTS.nodePath;
    this.cliPath = options.cliPath ?? OPENCLAW_DEFAULTS.cliPath;
    this.skillName = options.skillName ?? DEFAULT_SKILL_NAME;
  }

  async install(containerId: string, reloadId: string, program: DriverProgram, options: DriverCallOptions): Promise<InstallResult> {
    const trace = new TraceBuilder(reloadId, program.programId);
    let bundle: SkillBundle;
    try {
      bundle = renderSkillBundle(program.bytes, { reloadId, skillName: this.skillName });
    } catch (err) {
      if (!(err instanceof SkillBundleError)) throw err;
      return this.failed(trace, null, 'BUNDLE_INVALID', err.message);
    }
    if (bundle.manifest.bytecodeSha256 !== program.sha256) {
      return this.failed(trace, null, 'BUNDLE_INVALID', `the program's sha256 ${program.sha256} is not the sha256 of its bytes (${bundle.manifest.bytecodeSha256})`);
    }
    try {
      const before = await this.inspect(containerId, reloadId);
      if (before.live === 'foreign') {
        return this.failed(trace, null, 'SKILL_NOT_OURS', `skills/${this.skillName} is not a skill this injector wrote; it is left alone`);
      }
      if (!(before.live === 'ours' && before.manifest?.reloadId === reloadId)) {
        // One archive: the whole bundle as one file, unpacked and checked by the switch script.
        const incoming = Buffer.from(JSON.stringify({ files: bundle.files.map((f) => ({ name: f.name, base64: f.content.toString('base64') })) }));
        await this.adapter.writeFile(containerId, `${this.skillsDir}/${INCOMING_PREFIX}${reloadId}.json`, incoming, 0o644);
      }
      const switched = await this.script(containerId, 'install', reloadId);
      const outcome = switched.outcome;
      if (outcome === 'foreign') return this.failed(trace, null, 'SKILL_NOT_OURS', `skills/${this.skillName} is not a skill this injector wrote; it is left alone`);
      if (outcome !== 'switched' && outcome !== 'already') {
        return this.failed(trace, null, 'SWITCH_FAILED', `the switch did not complete (${String(outcome)}${switched.error ? `: ${String(switched.error)}` : ''})`);
      }
      const replaced = refOf(isRecord(switched.replaced) ? (switched.replaced as unknown as Manifest) : null);
      trace.add('switch', 'completed', { outcome, skill: this.skillName, bundleSha256: bundle.manifest.bundleSha256, replaced: replaced?.reloadId ?? null });
      const verified = await this.awaitRevision(containerId, reloadId, { description: bundle.description, skillSha256: bundle.manifest.skillSha256 }, options, trace);
      if (!verified.ok) return { ok: false, error: { code: verified.code, message: verified.message }, replaced, trace: trace.finish(verified) };
      return { ok: true, replaced, trace: trace.finish(null) };
    } catch (err) {
      return this.agentFailure(err, trace, null);
    }
  }

  async restore(containerId: string, reloadId: string, options: DriverCallOptions): Promise<RestoreResult> {
    const reply = await this.script(containerId, 'restore', reloadId);
    const current = refOf(isRecord(reply.current) ? (reply.current as unknown as Manifest) : null);
    if (reply.outcome === 'superseded') return { outcome: 'superseded', current };
    if (reply.outcome === 'nothing-to-undo') return { outcome: 'nothing-to-undo', current };
    if (reply.outcome !== 'restored') {
      throw new OpenClawDriverError('RESTORE_FAILED', `restore of ${reloadId} did not complete (${String(reply.outcome)}${reply.error ? `: ${String(reply.error)}` : ''})`);
    }
    const trace = new TraceBuilder(reloadId, current?.programId ?? null);
    trace.add('restore', 'completed', { skill: this.skillName, restored: current?.reloadId ?? null });
    const expected: Expected = current ? { description: typeof reply.description === 'string' ? reply.description : null, skillSha256: (reply.current as unknown as Manifest).skillSha256 } : null;
    const verified = await this.awaitRevision(containerId, reloadId, expected, options, trace);
    if (!verified.ok) throw new OpenClawDriverError('RESTORE_FAILED', `restored on disk, but the gateway does not confirm it: ${verified.code}: ${verified.message}`);
    return { outcome: 'restored', current, trace: trace.finish(null) };
  }

  /**
   * install's first part, for the injectProgram step: renders the bundle and writes it as one file beside the slot
   * (skills/.dreamnet-incoming-<reloadId>.json, hidden from discovery); what the gateway loads is not changed.
   * Throws OpenClawDriverError BUNDLE_INVALID or SKILL_NOT_OURS (nothing written).
   */
  async stage(containerId: string, reloadId: string, program: DriverProgram): Promise<void> {
    let bundle: SkillBundle;
    try {
      bundle = renderSkillBundle(program.bytes, { reloadId, skillName: this.skillName });
    } catch (err) {
      if (!(err instanceof SkillBundleError)) throw err;
      throw new OpenClawDriverError('BUNDLE_INVALID', err.message, { cause: err });
    }
    if (bundle.manifest.bytecodeSha256 !== program.sha256) {
      throw new OpenClawDriverError('BUNDLE_INVALID', `the program's sha256 ${program.sha256} is not the sha256 of its bytes (${bundle.manifest.bytecodeSha256})`);
    }
    const before = await this.inspect(containerId, reloadId);
    if (before.live === 'foreign') throw new OpenClawDriverError('SKILL_NOT_OURS', `skills/${this.skillName} is not a skill this injector wrote; it is left alone`);
    if (before.live === 'ours' && before.manifest?.reloadId === reloadId) return;
    const incoming = Buffer.from(JSON.stringify({ files: bundle.files.map((f) => ({ name: f.name, base64: f.content.toString('base64') })) }));
    await this.adapter.writeFile(containerId, `${this.skillsDir}/${INCOMING_PREFIX}${reloadId}.json`, incoming, 0o644);
  }

  /** install's second part, for the reloadAgent step: the renames that put the staged bundle in effect. */
  async switchTo(containerId: string, reloadId: string): Promise<{ outcome: 'switched' | 'already'; replaced: RunningProgramRef | null }> {
    const switched = await this.script(containerId, 'install', reloadId);
    if (switched.outcome === 'foreign') throw new OpenClawDriverError('SKILL_NOT_OURS', `skills/${this.skillName} is not a skill this injector wrote; it is left alone`);
    if (switched.outcome !== 'switched' && switched.outcome !== 'already') {
      throw new OpenClawDriverError('SWITCH_FAILED', `the switch did not complete (${String(switched.outcome)}${switched.error ? `: ${String(switched.error)}` : ''})`);
    }
    return { outcome: switched.outcome, replaced: refOf(isRecord(switched.replaced) ? (switched.replaced as unknown as Manifest) : null) };
  }

  /**
   * install's last part, for the trace step: asks the gateway (bounded by `timeoutMs`) until skills.status shows the
   * revision that is live in the slot, and returns what it said as the trace; its final line says whether the gateway
   * confirmed it (`completed`) or why not (`error`: SKILL_INELIGIBLE, SKILL_NOT_LOADED, …). A slot that does not hold
   * `reloadId` is SKILL_NOT_LOADED at once. Docker errors (a stopped container) are thrown, as a trace read's are.
   */
  async verify(containerId: string, reloadId: string, options: DriverCallOptions): Promise<TraceSummary> {
    const report = await this.inspect(containerId, reloadId);
    const manifest = report.live === 'ours' ? report.manifest : null;
    const trace = new TraceBuilder(reloadId, manifest?.programId ?? null);
    if (!manifest || manifest.reloadId !== reloadId) {
      const error = { code: 'SKILL_NOT_LOADED', message: `skills/${this.skillName} does not hold reload ${reloadId} (it holds ${manifest ? manifest.reloadId : report.live})` };
      trace.add('switch', 'error', { error });
      return trace.finish(error);
    }
    trace.add('switch', 'completed', { outcome: 'live', skill: this.skillName, bundleSha256: manifest.bundleSha256 ?? null });
    const verified = await this.awaitRevision(containerId, reloadId, { description: report.description ?? null, skillSha256: manifest.skillSha256 }, options, trace);
    return trace.finish(verified.ok ? null : verified);
  }

  async current(containerId: string): Promise<RunningProgramRef | null> {
    const report = await this.inspect(containerId, 'current');
    return report.live === 'ours' ? refOf(report.manifest) : null;
  }

  async touchedBy(containerId: string, reloadId: string): Promise<boolean> {
    const report = await this.inspect(containerId, reloadId);
    const { stage, prev, none, restored } = report.records;
    return stage || prev || none || restored || report.incoming || (report.live === 'ours' && report.manifest?.reloadId === reloadId);
  }

  private failed(trace: TraceBuilder, replaced: RunningProgramRef | null, code: OpenClawDriverErrorCode, message: string): InstallResult {
    const error = { code, message };
    trace.add('install', 'error', { error });
    return { ok: false, error, replaced, trace: trace.finish(error) };
  }

  /** A gateway that stopped or vanished is this agent's failure; a retryable engine error is the caller's to retry. */
  private agentFailure(err: unknown, trace: TraceBuilder, replaced: RunningProgramRef | null): InstallResult {
    if (isDockerAdapterError(err) && !err.retryable) {
      const error = { code: err.code, message: err.message };
      trace.add('install', 'error', { error });
      return { ok: false, error, replaced, trace: trace.finish(error) };
    }
    if (err instanceof OpenClawDriverError) return this.failed(trace, replaced, err.code, err.message);
    throw err;
  }

  private async inspect(containerId: string, reloadId: string): Promise<InspectReport> {
    const reply = await this.script(containerId, 'read', reloadId);
    if (reply.live !== 'none' && reply.live !== 'ours' && reply.live !== 'foreign') {
      throw new OpenClawDriverError('SWITCH_FAILED', `inspect did not answer (${String(reply.outcome)}${reply.error ? `: ${String(reply.error)}` : ''})`);
    }
    return reply as unknown as InspectReport;
  }

  private async script(containerId: string, op: SwitchOp, reloadId: string, extra: string[] = [], timeoutMs = SWITCH_EXEC_TIMEOUT_MS, maxOutputBytes = MAX_SCRIPT_OUTPUT_BYTES): Promise<Record<string, unknown>> {
    const argv = switchArgv(this.nodePath, op, this.skillsDir, this.skillName, reloadId, extra);
    const result = await this.adapter.exec(containerId, argv, { timeoutMs, maxOutputBytes });
    const line = result.stdout.trim().split('\n').pop() ?? '';
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch (err) {
      // Killed with its container (stopped mid-call): the gateway is not running, as for any later call, not a bad answer.
      let state = await this.adapter.containerState(containerId).catch(() => null);
      // Killed by a signal (137) or not started in a container going down (126): the engine may mark the container
      // exited a moment later.
      if (state?.running && result.exitCode !== 0) {
        await delay(KILLED_RECHECK_MS);
        state = await this.adapter.containerState(containerId).catch(() => null);
      }
      if (state && !state.running) throw new DockerAdapterError('CONTAINER_NOT_RUNNING', `the ${op} script was cut off: container ${containerId} is ${state.status}`, { cause: err });
      throw new DockerAdapterError('EXEC_FAILED', `the ${op} script answered no JSON (exit ${result.exitCode}): ${result.stderr.slice(0, 300)}`, { cause: err });
    }
    if (!isRecord(parsed)) throw new DockerAdapterError('EXEC_FAILED', `the ${op} script answered ${line.slice(0, 100)}`);
    return parsed;
  }

  private async status(containerId: string, reloadId: string, callTimeoutMs: number): Promise<StatusReport> {
    const reply = await this.script(containerId, 'status', reloadId, [this.nodePath, this.cliPath, String(callTimeoutMs)], callTimeoutMs + STATUS_EXEC_MARGIN_MS, MAX_SCRIPT_OUTPUT_BYTES);
    if (typeof reply.reachable !== 'boolean') throw new DockerAdapterError('EXEC_FAILED', `the status script answered ${JSON.stringify(reply).slice(0, 200)}`);
    return reply as unknown as StatusReport;
  }

  /**
   * Asks the gateway until it reports the expected revision: listed from skills/<name>/SKILL.md, the file there holding
   * the bundle's sha256, the parsed description naming the revision, and eligible. A skill the gateway lists with unmet
   * requirements fails at once (SKILL_INELIGIBLE): waiting cannot install a binary.
   */
  private async awaitRevision(containerId: string, reloadId: string, expected: Expected, options: DriverCallOptions, trace: TraceBuilder): Promise<VerifyOutcome> {
    const deadline = Date.now() + options.timeoutMs;
    let last: VerifyOutcome = { ok: false, code: 'SKILL_NOT_LOADED', message: 'the gateway was not asked' };
    for (let poll = 0; poll < MAX_VERIFY_POLLS; poll++) {
      if (options.signal?.aborted) throw new DockerAdapterError('ABORTED', 'verification aborted');
      const remaining = deadline - Date.now();
      if (remaining <= 0) break;
      const status = await this.status(containerId, reloadId, Math.min(STATUS_CALL_TIMEOUT_MS, Math.max(remaining, 1_000)));
      const verdict = judge(status, expected, this.skillsDir, this.skillName);
      trace.add('skills.status', verdict.ok ? 'completed' : 'error', { gateway: summarize(status), ...(verdict.ok ? {} : { waiting: verdict.code }) });
      if (verdict.ok) return verdict;
      if (verdict.code === 'SKILL_INELIGIBLE') return verdict;
      last = verdict;
      if (deadline - Date.now() <= VERIFY_POLL_INTERVAL_MS) break;
      await delay(VERIFY_POLL_INTERVAL_MS, undefined, options.signal ? { signal: options.signal } : undefined).catch(() => undefined);
    }
    return { ok: false, code: last.code, message: `${last.message} (gave up after ${options.timeoutMs} ms)` };
  }
}

function summarize(status: StatusReport): Record<string, unknown> {
  if (!status.reachable) return { reachable: false, error: status.error ?? null };
  if (!status.listed) return { reachable: true, listed: false, skills: status.skills ?? null };
  return {
    reachable: true,
    listed: true,
    eligible: status.eligible ?? false,
    source: status.source ?? null,
    filePath: status.filePath ?? null,
    description: status.description ?? null,
    fileSha256: status.fileSha256 ?? null,
    missing: status.missing ?? {},
  };
}

function judge(status: StatusReport, expected: Expected, skillsDir: string, skillName: string): VerifyOutcome {
  if (!status.reachable) return { ok: false, code: 'GATEWAY_UNREACHABLE', message: `skills.status failed: ${status.error ?? 'no answer'}` };
  if (expected === null) {
    return status.listed ? { ok: false, code: 'SKILL_MISMATCH', message: `the gateway still lists ${skillName}` } : { ok: true };
  }
  if (!status.listed) return { ok: false, code: 'SKILL_NOT_LOADED', message: `the gateway does not list ${skillName} yet` };
  const file = `${skillsDir}/${skillName}/${SKILL_FILE}`;
  if (status.filePath !== file) return { ok: false, code: 'SKILL_MISMATCH', message: `the gateway loaded ${skillName} from ${String(status.filePath)}, not ${file}` };
  if (status.fileSha256 !== expected.skillSha256) return { ok: false, code: 'SKILL_MISMATCH', message: `${file} does not hold the bundle written (sha256 ${String(status.fileSha256)})` };
  if (expected.description !== null && status.description !== expected.description) {
    return { ok: false, code: 'SKILL_NOT_LOADED', message: `the gateway still reports an earlier revision of ${skillName}` };
  }
  if (status.eligible) return { ok: true };
  const missing = Object.entries(status.missing ?? {}).map(([k, v]) => `${k}: ${v.join(', ')}`);
  if (missing.length > 0 || status.disabled || status.blockedByAllowlist) {
    const why = missing.length > 0 ? `missing ${missing.join('; ')}` : status.disabled ? 'disabled' : 'blocked by the allowlist';
    return { ok: false, code: 'SKILL_INELIGIBLE', message: `the gateway loaded ${skillName} but it is not eligible (${why})` };
  }
  return { ok: false, code: 'SKILL_INELIGIBLE', message: `the gateway loaded ${skillName} but it is not eligible` };
}

export function createOpenClawDriver(adapter: DockerAdapter, options?: OpenClawDriverOptions): StepwiseRuntimeDriver {
  return new OpenClawDriver(adapter, options);
}

