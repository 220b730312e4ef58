// The agent's reload loop: watches RELOAD_SIGNAL, verifies the staged program, swaps it in and runs it, once per reload id.
import { constants as fsConstants, FSWatcher, mkdirSync, openSync, closeSync, fstatSync, readSync, renameSync, unlinkSync, watch, writeFileSync } from 'node:fs';
import path from 'node:path';
import { BytecodeError, decodeContainer, DecodedProgram, MAX_PROGRAM_BYTES } from '../bytecode/format';
import type { TrustedKeys } from '../signing/keys';
import { verifyForAgent, verifySignature } from '../signing/verify';
import { Value, ValueTag } from '../bytecode/instructions';
import type { HandlerRegistry } from './handler-registry';
import { ActiveRun, RunLimits, startRun } from './program-runner';
import {
  CURRENT_FILE,
  CurrentProgram,
  FinalTraceLine,
  isRecord,
  isReloadId,
  KEPT_PROGRAM_FILE,
  KEPT_RECORD_FILE,
  KeptRecord,
  MAX_CURRENT_BYTES,
  MAX_RELOAD_SIGNAL_BYTES,
  parseCurrent,
  parseReloadSignal,
  PROGRAM_FILE,
  RELOAD_SIGNAL_FILE,
  ReloadSignal,
  ROLLBACK_SUFFIX,
  parseCurrentValue,
  ProgramNamed,
  stagedProgramFile,
} from './protocol';
import { createOutcomeRecorder } from './outcome-recorder';
import { createFileReloadState, ReloadState } from './reload-state';
import { startResourceMeter } from './resource-meter';
import { createFileTraceWriter, TraceWriter } from './trace-writer';
import { HEARTBEAT_INTERVAL_MS } from './heartbeat';

/** How often the runtime looks for a reload signal when it cannot watch the programs directory. */
export const DEFAULT_POLL_INTERVAL_MS = 200;
/**
 * How often it looks anyway while the watch works: a safety net for a missed event, slow enough that an idle agent
 * costs almost nothing (each look reads the signal file; at 200 ms that was most of an idle agent's CPU).
 */
export const WATCHED_POLL_INTERVAL_MS = 5_000;


export interface AgentIdentity {
  agentId: string;
  group: string | null;
}

export interface AgentRuntimeOptions {
  programsDir: string;
  logsDir: string;
  stateDir: string;
  /** Touched every HEARTBEAT_INTERVAL_MS; swarm:status and the opt-in HEALTHCHECK read its age. */
  heartbeatFile?: string;
  /** Public keys by key id; a staged program must be signed by one of them (docs/agent-protocol.md, Verify). */
  trustedKeys: TrustedKeys;
  registry: HandlerRegistry;
  limits: RunLimits;
  identity: AgentIdentity;
  pollIntervalMs?: number;
  rotateBytes?: number;
  log?: (message: string) => void;
  /** The clock envelopes' expiry is checked against; Date.now by default. */
  now?: () => number;
}

export interface AgentRuntime {
  start(): void;
  /** Aborts a run in flight (final line AGENT_STOPPED) and stops watching. */
  stop(): Promise<void>;
  /** Reads RELOAD_SIGNAL now and acts on it; resolves when that check (not the run it may start) is done. */
  checkNow(): Promise<void>;
  /** Resolves when no run is in flight and no check is pending. */
  idle(): Promise<void>;
}

/** A refusal: the reload is not acted on, the active program stays, and the final line carries this code. */
class ReloadRefused extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ReloadRefused';
  }
}

/** Reads `size` bytes of an open file from its start (fewer if it shrank meanwhile). */
function readAll(fd: number, size: number): Buffer {
  const bytes = Buffer.alloc(size);
  let read = 0;
  while (read < bytes.length) {
    const n = readSync(fd, bytes, read, bytes.length - read, read);
    if (n === 0) break;
    read += n;
  }
  return bytes.subarray(0, read);
}

/** The CURRENT fields that name a program; null when no program ran. */
function named(current: CurrentProgram | null): ProgramNamed | null {
  if (!current || current.programId === null) return null;
  return { programId: current.programId, reloadId: current.reloadId, sha256: current.sha256 };
}

/** Whether the agent runs what a kept record says was there: the same program, or none at all. */
function sameProgram(current: CurrentProgram | null, previous: CurrentProgram | null): boolean {
  const now = named(current);
  const then = named(previous);
  if (!now || !then) return now === then;
  return now.programId === then.programId && now.sha256 === then.sha256;
}

export function createAgentRuntime(options: AgentRuntimeOptions): AgentRuntime {
  const log = options.log ?? ((m: string) => console.error(`openclaw-agent: ${m}`));
  for (const dir of [options.programsDir, options.logsDir, options.stateDir]) mkdirSync(dir, { recursive: true });
  const fileTrace: TraceWriter = createFileTraceWriter({ logsDir: options.logsDir, rotateBytes: options.rotateBytes });
  // Every line goes to the log first; the outcome recorder (protocol v2) then answers the reload in one file.
  const trace: TraceWriter = {
    write(line) {
      fileTrace.write(line);
      outcomes.observe(line);
    },
    rotateIfNeeded: () => fileTrace.rotateIfNeeded(),
  };
  const state: ReloadState = createFileReloadState(options.stateDir);
  const signalFile = path.join(options.programsDir, RELOAD_SIGNAL_FILE);
  const startedAt = Date.now();

  let active: ActiveRun | null = null;
  let lastSignalText: string | null = null;
  let checking: Promise<void> | null = null;
  let recheck = false;
  let watcher: FSWatcher | null = null;
  const timers: NodeJS.Timeout[] = [];
  let stopped = false;

  const variable = (name: string): Value | undefined => {
    switch (name) {
      case 'agent_id':
        return { tag: ValueTag.String, value: options.identity.agentId };
      case 'group':
        return { tag: ValueTag.String, value: options.identity.group ?? '' };
      case 'memory_mb':
        return { tag: ValueTag.Number, value: Math.round(process.memoryUsage.rss() / (1024 * 1024)) };
      case 'uptime':
        return { tag: ValueTag.Duration, value: Date.now() - startedAt };
      case 'cpu': {
        const usage = process.cpuUsage();
        const wallUs = Math.max(1, (Date.now() - startedAt) * 1000);
        return { tag: ValueTag.Percent, value: Math.round(((usage.user + usage.system) / wallUs) * 1000) / 10 };
      }
      default:
        return undefined;
    }
  };

  /** Writes `bytes` to `<file>.tmp`, then renames it over `file`. */
  const writeAtomically = (file: string, bytes: Buffer) => {
    const tmp = `${file}.tmp`;
    writeFileSync(tmp, bytes, { mode: 0o644 });
    renameSync(tmp, file);
  };

  const writeCurrent = (current: CurrentProgram) => {
    const file = path.join(options.programsDir, CURRENT_FILE);
    const tmp = path.join(options.programsDir, `.${CURRENT_FILE}.tmp`);
    writeFileSync(tmp, JSON.stringify(current) + '\n', { mode: 0o644 });
    renameSync(tmp, file);
  };

  const readCurrent = (): CurrentProgram | null => {
    const bytes = readBounded(path.join(options.programsDir, CURRENT_FILE), MAX_CURRENT_BYTES);
    return bytes ? parseCurrent(bytes.toString('utf8')) ?? null : null;
  };

  const outcomes = createOutcomeRecorder({ dir: options.programsDir, readCurrent, log });
  const keptProgramFile = path.join(options.stateDir, KEPT_PROGRAM_FILE);
  const keptRecordFile = path.join(options.stateDir, KEPT_RECORD_FILE);

  /** Keeps what reload `by` replaces (bytes first, then the record that points at them): a v2 restore puts it back. */
  const keep = (by: string, previous: { bytes: Buffer | null; current: CurrentProgram | null }) => {
    if (previous.bytes) writeAtomically(keptProgramFile, previous.bytes);
    else removeQuietly(keptProgramFile);
    const record: KeptRecord = { v: 2, by, previous: previous.bytes ? previous.current : null };
    writeAtomically(keptRecordFile, Buffer.from(JSON.stringify(record) + '\n'));
  };

  const readKept = (): KeptRecord | null => {
    const bytes = readBounded(keptRecordFile, MAX_CURRENT_BYTES * 2);
    if (!bytes) return null;
    try {
      const value: unknown = JSON.parse(bytes.toString('utf8'));
      if (!isRecord(value) || value.v !== 2 || typeof value.by !== 'string') return null;
      const previous = value.previous === null ? null : parseCurrentValue(value.previous);
      return previous === undefined ? null : { v: 2, by: value.by, previous };
    } catch {
      return null;
    }
  };

  const writeFinal = (reloadId: string, programId: string | null, error: FinalTraceLine['error'], meterStart = startResourceMeter()) => {
    if (!active) trace.rotateIfNeeded();
    trace.write({
      v: 1,
      injectionId: reloadId,
      programId,
      final: true,
      status: error ? 'error' : 'completed',
      steps: 0,
      ...(error ? { error } : {}),
      ...meterStart.finish(),
      ts: new Date().toISOString(),
    });
  };

  const stopActive = async (code: 'SUPERSEDED' | 'AGENT_STOPPED', message: string) => {
    const run = active;
    if (!run) return;
    run.abort(code, message);
    await run.done;
  };

  const readStaged = (reloadId: string): Buffer => {
    const file = path.join(options.programsDir, stagedProgramFile(reloadId));
    let fd: number;
    try {
      fd = openSync(file, fsConstants.O_RDONLY | fsConstants.O_NOFOLLOW);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') throw new ReloadRefused('RELOAD_STAGED_MISSING', `${stagedProgramFile(reloadId)} does not exist`);
      if (code === 'ELOOP') throw new ReloadRefused('RELOAD_STAGED_UNSAFE', `${stagedProgramFile(reloadId)} is a symbolic link`);
      throw err;
    }
    try {
      const stat = fstatSync(fd);
      if (!stat.isFile()) throw new ReloadRefused('RELOAD_STAGED_UNSAFE', `${stagedProgramFile(reloadId)} is not a regular file`);
      if (stat.size > MAX_PROGRAM_BYTES) throw new ReloadRefused('BC_TOO_LARGE', `staged program is ${stat.size} bytes, over ${MAX_PROGRAM_BYTES}`);
      return readAll(fd, stat.size);
    } finally {
      closeSync(fd);
    }
  };

  /** A regular file's bytes (no symlink followed), or null when absent or over the bound. */
  const readBounded = (file: string, maxBytes = MAX_PROGRAM_BYTES): Buffer | null => {
    let fd: number;
    try {
      fd = openSync(file, fsConstants.O_RDONLY | fsConstants.O_NOFOLLOW);
    } catch {
      return null;
    }
    try {
      const stat = fstatSync(fd);
      if (!stat.isFile() || stat.size > maxBytes) return null;
      return readAll(fd, stat.size);
    } finally {
      closeSync(fd);
    }
  };

  const removeQuietly = (file: string) => {
    try {
      unlinkSync(file);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') log(`could not remove ${file}: ${String(err)}`);
    }
  };

  const handle = async (signal: ReloadSignal) => {
    const id = signal.id;
    if (!isReloadId(id)) {
      log(`ignoring a reload with an invalid id ${JSON.stringify(id.slice(0, 200))}`);
      return;
    }
    if (state.has(id)) {
      // Acted on once already: a replay (or a retried write) runs nothing, and its staged copy is dropped.
      removeQuietly(path.join(options.programsDir, stagedProgramFile(id)));
      return;
    }
    state.markSeen(id);
    const meter = startResourceMeter();
    try {
      await apply(signal, meter);
    } catch (err) {
      // The id is marked seen, so the injector would otherwise wait for a final line that never comes.
      log(`reload ${id} failed inside the agent: ${err instanceof Error ? err.stack ?? err.message : String(err)}`);
      writeFinal(id, null, { code: 'AGENT_INTERNAL', message: err instanceof Error ? err.message : String(err) }, meter);
    }
  };

  const apply = async (signal: ReloadSignal, meter: ReturnType<typeof startResourceMeter>) => {
    const id = signal.id;
    const stagedPath = path.join(options.programsDir, stagedProgramFile(id));
    let program: DecodedProgram;
    try {
      if (signal.program === null) {
        throw new ReloadRefused('BC_UNSIGNED', 'a clear must be a sealed file staged for this reload; an unsigned "program": null is refused');
      }
      if (signal.program !== stagedProgramFile(id)) {
        throw new ReloadRefused('RELOAD_BAD_PROGRAM_NAME', `program must be ${stagedProgramFile(id)}, got ${JSON.stringify(signal.program.slice(0, 200))}`);
      }
      const bytes = readStaged(id);
      try {
        program = verifyForAgent(bytes, {
          trustedKeys: options.trustedKeys,
          agentId: options.identity.agentId,
          group: options.identity.group,
          reloadId: id,
          nowMs: (options.now ?? Date.now)(),
          lastSequence: state.lastSequence(),
        });
      } catch (err) {
        removeQuietly(stagedPath);
        if (err instanceof BytecodeError) throw new ReloadRefused(err.code, err.message);
        throw err;
      }
    } catch (err) {
      if (!(err instanceof ReloadRefused)) throw err;
      log(`refused reload ${id}: ${err.code}: ${err.message}`);
      writeFinal(id, null, { code: err.code, message: err.message }, meter);
      return;
    }
    const { envelope } = program.container;
    // Accepted: from now on nothing at or under this sequence is, even after a restart.
    state.acceptSequence(envelope.sequence);
    const sequence = state.lastSequence();

    if (program.container.kind === 'restore') {
      removeQuietly(stagedPath);
      await restore(id, sequence, meter);
      return;
    }
    // The new program is valid (or a sealed clear): only now does the running one give way.
    await stopActive('SUPERSEDED', `superseded by reload ${id}`);
    trace.rotateIfNeeded();
    const programFile = path.join(options.programsDir, PROGRAM_FILE);
    // What this reload replaces: kept on disk for a v2 restore, and in memory until the run ends (step 7).
    const previous = { bytes: readBounded(programFile), current: readCurrent() };
    keep(id, previous);
    state.markSwitched(id);
    const replaced = previous.bytes ? named(previous.current) : null;
    if (program.container.kind === 'clear' || program.programId === null) {
      removeQuietly(stagedPath);
      removeQuietly(programFile);
      writeCurrent({ programId: null, reloadId: id, sha256: null, sequence, since: new Date().toISOString() });
      outcomes.begin(id, { replaced, switched: true });
      writeFinal(id, null, undefined, meter);
      return;
    }
    renameSync(stagedPath, programFile);
    switchAndRun(id, program, envelope.bodySha256, sequence, meter, { replaced, previous });
  };

  /**
   * Runs a program that is now program.bc under reload `id`. With `previous`, a run that fails by itself puts that
   * back (step 7); a restore passes none, so the program it put back stays even if its run fails.
   */
  const switchAndRun = (
    id: string,
    program: DecodedProgram,
    sha256: string | null,
    sequence: number | null,
    meter: ReturnType<typeof startResourceMeter>,
    context: { replaced: ProgramNamed | null; previous?: { bytes: Buffer | null; current: CurrentProgram | null }; restore?: 'restored' },
  ) => {
    const programFile = path.join(options.programsDir, PROGRAM_FILE);
    const body = { programId: program.programId as string, constants: program.constants, instructions: program.instructions };
    meter.finish(); // the run measures itself from here; this meter only timed the verification
    writeCurrent({ programId: body.programId, reloadId: id, sha256, sequence, since: new Date().toISOString() });
    state.setInFlight({ reloadId: id, programId: body.programId });
    outcomes.begin(id, { replaced: context.replaced, switched: true, ...(context.restore ? { restore: context.restore } : {}) });
    const previous = context.previous;
    const revert = previous
      ? (): { revertedTo: string | null } => {
          if (previous.bytes) writeAtomically(programFile, previous.bytes);
          else removeQuietly(programFile);
          const restored = previous.bytes && previous.current ? previous.current : { programId: null, reloadId: id, sha256: null, since: new Date().toISOString() };
          // The sequence stays the highest accepted: putting the old program back does not make older seals valid again.
          writeCurrent({ ...restored, sequence: state.lastSequence() });
          log(`reload ${id} failed while running; put back program ${String(restored.programId)}`);
          return { revertedTo: restored.programId };
        }
      : undefined;
    const run = startRun(id, body, { registry: options.registry, variable, trace, limits: options.limits, onFailure: revert });
    active = run;
    void run.done.then(() => {
      if (active === run) active = null;
      if (state.inFlight()?.reloadId === id) state.setInFlight(null);
    });
  };

  /**
   * A v2 restore for reload `<R>.rollback`: the compare-and-swap is the agent's own. While CURRENT names R, what R
   * replaced (the kept record) is put back and run again, or the program is removed when R replaced none. When the
   * agent already runs what R replaced (it put it back itself, step 7), nothing is done. When another reload runs,
   * nothing is touched: RESTORE_SUPERSEDED. A record that is not R's: RESTORE_NO_RECORD, nothing touched.
   */
  const restore = async (id: string, sequence: number | null, meter: ReturnType<typeof startResourceMeter>) => {
    const current = readCurrent();
    if (!id.endsWith(ROLLBACK_SUFFIX)) {
      outcomes.begin(id, { replaced: null, switched: false, restore: 'no-record' });
      writeFinal(id, null, { code: 'RESTORE_BAD_RELOAD', message: `a restore is sealed for <R>${ROLLBACK_SUFFIX}, not ${id}` }, meter);
      return;
    }
    const undo = id.slice(0, -ROLLBACK_SUFFIX.length);
    const kept = readKept();
    const ours = kept?.by === undo ? kept : null;
    if (current?.reloadId !== undo) {
      // R never switched (refused, or never reached the agent), or it did and the agent put back what it replaced.
      if (!state.hasSwitched(undo) || (ours && sameProgram(current, ours.previous))) {
        outcomes.begin(id, { replaced: null, switched: false, restore: 'nothing-to-undo' });
        writeFinal(id, current?.programId ?? null, undefined, meter);
        return;
      }
      outcomes.begin(id, { replaced: null, switched: false, restore: 'superseded' });
      writeFinal(id, null, { code: 'RESTORE_SUPERSEDED', message: `the agent runs reload ${current?.reloadId ?? 'none'}, not ${undo}: nothing was restored` }, meter);
      return;
    }
    const keptBytes = ours?.previous ? readBounded(keptProgramFile) : null;
    if (!ours || (ours.previous && !keptBytes)) {
      outcomes.begin(id, { replaced: null, switched: false, restore: 'no-record' });
      writeFinal(id, null, { code: 'RESTORE_NO_RECORD', message: `the agent keeps no record of what ${undo} replaced: nothing was restored` }, meter);
      return;
    }
    let program: DecodedProgram | null = null;
    if (keptBytes) {
      try {
        // Run only what a trusted key signed, even from the agent's own disk.
        program = decodeContainer(verifySignature(keptBytes, options.trustedKeys));
      } catch (err) {
        const code = err instanceof BytecodeError ? err.code : 'AGENT_INTERNAL';
        outcomes.begin(id, { replaced: null, switched: false, restore: 'no-record' });
        writeFinal(id, null, { code, message: `the kept program does not verify: ${err instanceof Error ? err.message : String(err)}` }, meter);
        return;
      }
    }
    await stopActive('SUPERSEDED', `rolled back by reload ${id}`);
    trace.rotateIfNeeded();
    const replaced = named(current);
    const programFile = path.join(options.programsDir, PROGRAM_FILE);
    removeQuietly(keptRecordFile);
    if (!program || program.programId === null || !keptBytes) {
      removeQuietly(programFile);
      removeQuietly(keptProgramFile);
      writeCurrent({ programId: null, reloadId: id, sha256: null, sequence, since: new Date().toISOString() });
      outcomes.begin(id, { replaced, switched: true, restore: 'restored' });
      writeFinal(id, null, undefined, meter);
      return;
    }
    writeAtomically(programFile, keptBytes);
    removeQuietly(keptProgramFile);
    switchAndRun(id, program, program.container.envelope.bodySha256, sequence, meter, { replaced, restore: 'restored' });
  };

  const readSignalText = (): string | null => {
    let fd: number;
    try {
      fd = openSync(signalFile, fsConstants.O_RDONLY | fsConstants.O_NOFOLLOW);
    } catch {
      return null;
    }
    try {
      const buffer = Buffer.alloc(MAX_RELOAD_SIGNAL_BYTES + 1);
      const n = readSync(fd, buffer, 0, buffer.length, 0);
      return n > MAX_RELOAD_SIGNAL_BYTES ? null : buffer.toString('utf8', 0, n);
    } finally {
      closeSync(fd);
    }
  };

  const checkOnce = async () => {
    const text = readSignalText();
    if (text === null || text === lastSignalText) return;
    lastSignalText = text;
    const signal = parseReloadSignal(text);
    if (signal) await handle(signal);
  };

  const checkNow = (): Promise<void> => {
    if (checking) {
      recheck = true;
      return checking;
    }
    checking = (async () => {
      try {
        do {
          recheck = false;
          await checkOnce();
        } while (recheck && !stopped);
      } catch (err) {
        log(`reload check failed: ${err instanceof Error ? err.stack ?? err.message : String(err)}`);
      } finally {
        checking = null;
      }
    })();
    return checking;
  };

  const heartbeat = () => {
    if (!options.heartbeatFile) return;
    try {
      writeFileSync(options.heartbeatFile, new Date().toISOString());
    } catch (err) {
      log(`could not write the heartbeat: ${String(err)}`);
    }
  };

  return {
    start() {
      const interrupted = state.inFlight();
      if (interrupted) {
        writeFinal(interrupted.reloadId, interrupted.programId, {
          code: 'AGENT_RESTARTED',
          message: 'the agent restarted while this program was running',
        });
        state.setInFlight(null);
      }
      heartbeat();
      let poll: NodeJS.Timeout | null = null;
      const pollEvery = (ms: number) => {
        if (poll) clearInterval(poll);
        poll = setInterval(() => void checkNow(), ms);
        timers.push(poll);
      };
      const fastPollMs = options.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS;
      try {
        watcher = watch(options.programsDir, (_event, filename) => {
          if (filename === null || filename === RELOAD_SIGNAL_FILE) void checkNow();
        });
        watcher.on('error', (err) => {
          log(`watch failed, polling only: ${String(err)}`);
          if (!stopped) pollEvery(fastPollMs);
        });
        pollEvery(Math.max(fastPollMs, WATCHED_POLL_INTERVAL_MS));
      } catch (err) {
        log(`watch unavailable, polling only: ${String(err)}`);
        pollEvery(fastPollMs);
      }
      if (options.heartbeatFile) timers.push(setInterval(heartbeat, HEARTBEAT_INTERVAL_MS));
      void checkNow();
    },
    async stop() {
      stopped = true;
      watcher?.close();
      timers.forEach(clearInterval);
      if (checking) await checking;
      await stopActive('AGENT_STOPPED', 'the agent was stopped while this program was running');
    },
    checkNow,
    async idle() {
      while (checking || active) {
        if (checking) await checking;
        if (active) await active.done;
      }
    },
  };
}
