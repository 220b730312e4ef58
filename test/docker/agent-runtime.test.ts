// The agent runtime in-process, on temp directories: the reload protocol, verification, traces, supersede, rotation, restart.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadAgentConfig } from '../../src/agent/agent-config';
import { createAgentRuntime, AgentRuntime } from '../../src/agent/agent-runtime';
import { HandlerRegistry } from '../../src/agent/handler-registry';
import {
  AgentTraceLine,
  CURRENT_FILE,
  EXECUTION_LOG_FILE,
  AgentOutcome,
  formatReloadSignal,
  formatReloadSignalV2,
  MAX_TRACE_LINE_BYTES,
  outcomeFile,
  parseCurrent,
  PROGRAM_FILE,
  RELOAD_SIGNAL_FILE,
  ROTATED_LOG_FILE,
  stagedProgramFile,
} from '../../src/agent/protocol';
import { registerReferenceHandlers } from '../../src/agent/reference-handlers';
import { serializeTraceLine } from '../../src/agent/trace-writer';
import { formatSigningKey, formatTrustedKey } from '../../src/signing/keys';
import { buildBody, ms, percent, REDUCE_15, TestDirective, text, withBadSignature } from '../support/programs';
import { sealBody, sealTestClear, sealTestRestore, TestSeal, testSigningKey, trustedKeysOf } from '../support/signing';

interface Dirs {
  root: string;
  programs: string;
  logs: string;
  state: string;
}

const key = testSigningKey();
const AGENT_ID = 'agent-1';

/** A program sealed for this agent and `reloadId`, as the injector's workers would seal it. */
function sealed(reloadId: string, programId: string, directives: TestDirective[], seal: Partial<TestSeal> = {}): Promise<Buffer> {
  return sealBody(buildBody(programId, directives), { key, agentId: AGENT_ID, reloadId, ...seal });
}
let dirs: Dirs;
let runtime: AgentRuntime | null = null;

function newDirs(): Dirs {
  const root = mkdtempSync(path.join(os.tmpdir(), 'openclaw-agent-'));
  return { root, programs: path.join(root, 'programs'), logs: path.join(root, 'logs'), state: path.join(root, 'state') };
}

function startRuntime(options: { timeLimitMs?: number; rotateBytes?: number; registry?: HandlerRegistry } = {}): AgentRuntime {
  runtime = createAgentRuntime({
    programsDir: dirs.programs,
    logsDir: dirs.logs,
    stateDir: dirs.state,
    trustedKeys: trustedKeysOf(key),
    registry: options.registry ?? registerReferenceHandlers(new HandlerRegistry()),
    limits: { maxSteps: 10_000, timeLimitMs: options.timeLimitMs ?? 10_000 },
    identity: { agentId: AGENT_ID, group: 'g' },
    pollIntervalMs: 60_000, // the tests drive checks themselves
    rotateBytes: options.rotateBytes,
    log: () => undefined,
  });
  return runtime;
}

/** What the injector does: stage the program, then write the signal. */
function inject(reloadId: string, program: Buffer | null): void {
  if (program) writeFileSync(path.join(dirs.programs, stagedProgramFile(reloadId)), program);
  writeFileSync(path.join(dirs.programs, RELOAD_SIGNAL_FILE), formatReloadSignal(reloadId, program !== null));
}

async function injectAndSettle(agent: AgentRuntime, reloadId: string, program: Buffer | null): Promise<void> {
  inject(reloadId, program);
  await agent.checkNow();
  await agent.idle();
}

function traceLines(file = EXECUTION_LOG_FILE): AgentTraceLine[] {
  const full = path.join(dirs.logs, file);
  if (!existsSync(full)) return [];
  return readFileSync(full, 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as AgentTraceLine);
}

const linesOf = (reloadId: string) => traceLines().filter((l) => l.injectionId === reloadId);
const finalOf = (reloadId: string) => linesOf(reloadId).find((l) => 'final' in l);
const current = () => parseCurrent(readFileSync(path.join(dirs.programs, CURRENT_FILE), 'utf8'));

beforeEach(() => {
  dirs = newDirs();
});

afterEach(async () => {
  await runtime?.stop();
  runtime = null;
  rmSync(dirs.root, { recursive: true, force: true });
});

describe('agent runtime, in-process', () => {
  test('a signed program is swapped in, run, and traced step by step with one final line', async () => {
    const agent = startRuntime();
    agent.start();
    const program = await sealed('inj-1', 'prog-a', [REDUCE_15, { name: 'OPTIMIZE_THROUGHPUT', amount: percent(20) }]);
    await injectAndSettle(agent, 'inj-1', program);

    const lines = linesOf('inj-1');
    expect(lines.map((l) => ('final' in l ? 'final' : `${l.step}:${l.status}`))).toEqual(['1:executing', '1:completed', '2:executing', '2:completed', 'final']);
    expect(lines[0]).toMatchObject({ v: 1, programId: 'prog-a', instruction: 'REDUCE_COSTS BY 15% {BUDGET: $500, METRICS: latency, memory}' });
    expect(lines[1]).toMatchObject({ outcome: { reducedByPercent: 15, budget: 500, metrics: 'latency, memory' } });
    const final = finalOf('inj-1');
    expect(final).toMatchObject({ final: true, status: 'completed', steps: 2, programId: 'prog-a' });
    if (final && 'final' in final) {
      expect(final.memory.peakBytes).toBeGreaterThanOrEqual(final.memory.initialBytes);
      expect(final.cpu.userMs).toBeGreaterThanOrEqual(0);
    }
    expect(readFileSync(path.join(dirs.programs, PROGRAM_FILE))).toEqual(program);
    expect(existsSync(path.join(dirs.programs, stagedProgramFile('inj-1')))).toBe(false);
    expect(current()).toMatchObject({ programId: 'prog-a', reloadId: 'inj-1' });
  });

  test('a program with a bad signature is refused, its staged file deleted, and the previous program kept', async () => {
    const agent = startRuntime();
    agent.start();
    const good = await sealed('inj-good', 'prog-good', [REDUCE_15]);
    await injectAndSettle(agent, 'inj-good', good);
    await injectAndSettle(agent, 'inj-bad', withBadSignature(await sealed('inj-bad', 'prog-evil', [REDUCE_15])));

    expect(linesOf('inj-bad')).toEqual([expect.objectContaining({ final: true, status: 'error', programId: null, error: expect.objectContaining({ code: 'BC_BAD_SIGNATURE' }) })]);
    expect(readFileSync(path.join(dirs.programs, PROGRAM_FILE))).toEqual(good);
    expect(existsSync(path.join(dirs.programs, stagedProgramFile('inj-bad')))).toBe(false);
    expect(current()).toMatchObject({ programId: 'prog-good', reloadId: 'inj-good' });
  });

  test('a program signed with another key is refused with BC_UNKNOWN_KEY, a corrupted one with BC_BAD_CHECKSUM', async () => {
    const agent = startRuntime();
    agent.start();
    await injectAndSettle(agent, 'inj-other-key', await sealed('inj-other-key', 'p', [REDUCE_15], { key: testSigningKey('other') }));
    const corrupted = await sealed('inj-corrupt', 'p', [REDUCE_15]);
    corrupted[corrupted.length - 64 - 2] ^= 0x01; // a body byte
    await injectAndSettle(agent, 'inj-corrupt', corrupted);
    expect(finalOf('inj-other-key')).toMatchObject({ status: 'error', error: { code: 'BC_UNKNOWN_KEY' } });
    expect(finalOf('inj-corrupt')).toMatchObject({ status: 'error', error: { code: 'BC_BAD_CHECKSUM' } });
    expect(existsSync(path.join(dirs.programs, PROGRAM_FILE))).toBe(false);
  });

  test('an unknown directive gives an error step and an error final line, and the agent keeps serving', async () => {
    const agent = startRuntime();
    agent.start();
    await injectAndSettle(agent, 'inj-unknown', await sealed('inj-unknown', 'p', [REDUCE_15, { name: 'LAUNCH_ROCKETS' }]));
    expect(linesOf('inj-unknown').map((l) => l.status)).toEqual(['executing', 'completed', 'executing', 'error', 'error']);
    expect(finalOf('inj-unknown')).toMatchObject({ status: 'error', steps: 2, error: { code: 'VM_UNKNOWN_DIRECTIVE' } });
    await injectAndSettle(agent, 'inj-after', await sealed('inj-after', 'p2', [REDUCE_15]));
    expect(finalOf('inj-after')).toMatchObject({ status: 'completed' });
  });

  test('SIMULATE_FAILURE fails its step with the given message', async () => {
    const agent = startRuntime();
    agent.start();
    await injectAndSettle(agent, 'inj-fail', await sealed('inj-fail', 'p', [{ name: 'SIMULATE_FAILURE', params: { MESSAGE: text('disk on fire') } }]));
    expect(finalOf('inj-fail')).toMatchObject({ status: 'error', error: { code: 'VM_DIRECTIVE_FAILED', message: expect.stringContaining('disk on fire') } });
  });

  test('a program running past its time limit ends with VM_TIME_LIMIT', async () => {
    const agent = startRuntime({ timeLimitMs: 100 });
    agent.start();
    await injectAndSettle(agent, 'inj-slow', await sealed('inj-slow', 'p', [{ name: 'SIMULATE_WORK', amount: ms(5_000) }]));
    expect(finalOf('inj-slow')).toMatchObject({ status: 'error', error: { code: 'VM_TIME_LIMIT' } });
  });

  test('a new valid reload supersedes the running program, which ends with SUPERSEDED', async () => {
    const agent = startRuntime();
    agent.start();
    inject('inj-long', await sealed('inj-long', 'p-long', [{ name: 'SIMULATE_WORK', amount: ms(30_000) }]));
    await agent.checkNow();
    await injectAndSettle(agent, 'inj-next', await sealed('inj-next', 'p-next', [REDUCE_15]));
    expect(finalOf('inj-long')).toMatchObject({ status: 'error', error: { code: 'SUPERSEDED' } });
    expect(finalOf('inj-next')).toMatchObject({ status: 'completed' });
    const order = traceLines().filter((l) => 'final' in l).map((l) => l.injectionId);
    expect(order).toEqual(['inj-long', 'inj-next']);
  });

  test('an invalid reload does not disturb the program that is running', async () => {
    const agent = startRuntime();
    agent.start();
    inject('inj-work', await sealed('inj-work', 'p-work', [{ name: 'SIMULATE_WORK', amount: ms(300) }]));
    await agent.checkNow();
    await injectAndSettle(agent, 'inj-forged', withBadSignature(await sealed('inj-forged', 'p', [REDUCE_15])));
    expect(finalOf('inj-forged')).toMatchObject({ status: 'error', error: { code: 'BC_BAD_SIGNATURE' } });
    expect(finalOf('inj-work')).toMatchObject({ status: 'completed' });
  });

  test('each reload id is acted on once, also after a restart; a signed clear clears the active one, an unsigned one is refused', async () => {
    let agent = startRuntime();
    agent.start();
    const program = await sealed('inj-once', 'p', [REDUCE_15]);
    await injectAndSettle(agent, 'inj-once', program);
    await injectAndSettle(agent, 'inj-once', program); // same signal again
    await agent.stop();
    agent = startRuntime();
    agent.start();
    await agent.checkNow();
    await agent.idle();
    expect(linesOf('inj-once').filter((l) => 'final' in l)).toHaveLength(1);

    await injectAndSettle(agent, 'inj-unsigned-clear', null);
    expect(finalOf('inj-unsigned-clear')).toMatchObject({ status: 'error', error: { code: 'BC_UNSIGNED' } });
    expect(existsSync(path.join(dirs.programs, PROGRAM_FILE))).toBe(true);

    await injectAndSettle(agent, 'inj-once.rollback', await sealTestClear({ key, agentId: AGENT_ID, reloadId: 'inj-once.rollback' }));
    expect(finalOf('inj-once.rollback')).toMatchObject({ status: 'completed', steps: 0, programId: null });
    expect(existsSync(path.join(dirs.programs, PROGRAM_FILE))).toBe(false);
    expect(current()).toMatchObject({ programId: null, reloadId: 'inj-once.rollback' });
  });

  test('a half-written signal is ignored and the completed one is processed', async () => {
    const agent = startRuntime();
    agent.start();
    writeFileSync(path.join(dirs.programs, stagedProgramFile('inj-half')), await sealed('inj-half', 'p', [REDUCE_15]));
    const full = formatReloadSignal('inj-half', true);
    writeFileSync(path.join(dirs.programs, RELOAD_SIGNAL_FILE), full.slice(0, 12));
    await agent.checkNow();
    await agent.idle();
    expect(linesOf('inj-half')).toEqual([]);
    writeFileSync(path.join(dirs.programs, RELOAD_SIGNAL_FILE), full);
    await agent.checkNow();
    await agent.idle();
    expect(finalOf('inj-half')).toMatchObject({ status: 'completed' });
  });

  test('the watcher picks up a signal without being asked', async () => {
    const agent = startRuntime();
    agent.start();
    inject('inj-watched', await sealed('inj-watched', 'p', [REDUCE_15]));
    const deadline = Date.now() + 5_000;
    while (!finalOf('inj-watched') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(finalOf('inj-watched')).toMatchObject({ status: 'completed' });
  });

  test('a missing staged file or a program name that is not the staged name is refused', async () => {
    const agent = startRuntime();
    agent.start();
    writeFileSync(path.join(dirs.programs, RELOAD_SIGNAL_FILE), formatReloadSignal('inj-missing', true));
    await agent.checkNow();
    writeFileSync(path.join(dirs.programs, RELOAD_SIGNAL_FILE), JSON.stringify({ v: 1, id: 'inj-path', program: '../../etc/passwd' }));
    await agent.checkNow();
    await agent.idle();
    expect(finalOf('inj-missing')).toMatchObject({ status: 'error', error: { code: 'RELOAD_STAGED_MISSING' } });
    expect(finalOf('inj-path')).toMatchObject({ status: 'error', error: { code: 'RELOAD_BAD_PROGRAM_NAME' } });
  });

  test('a run cut off by a crash gets an AGENT_RESTARTED final line when the agent comes back', async () => {
    const agent = startRuntime();
    agent.start();
    inject('inj-crash', await sealed('inj-crash', 'p', [{ name: 'SIMULATE_WORK', amount: ms(30_000) }]));
    await agent.checkNow();
    // Simulate a crash: the state file says a run is in flight, and no final line was written.
    const stateFile = path.join(dirs.state, 'agent-state.json');
    const saved = readFileSync(stateFile);
    await agent.stop();
    writeFileSync(stateFile, saved);
    const logFile = path.join(dirs.logs, EXECUTION_LOG_FILE);
    writeFileSync(logFile, readFileSync(logFile, 'utf8').split('\n').filter((l) => !l.includes('"final"')).join('\n'));

    const again = startRuntime();
    again.start();
    await again.idle();
    expect(linesOf('inj-crash').filter((l) => 'final' in l)).toEqual([expect.objectContaining({ status: 'error', error: expect.objectContaining({ code: 'AGENT_RESTARTED' }) })]);
  });

  test('a reload that fails inside the agent still gets its one final line (AGENT_INTERNAL)', async () => {
    const agent = startRuntime();
    agent.start();
    // program.bc as a non-empty directory: the rename of the verified program over it fails.
    mkdirSync(path.join(dirs.programs, PROGRAM_FILE, 'blocker'), { recursive: true });
    await injectAndSettle(agent, 'inj-internal', await sealed('inj-internal', 'p', [REDUCE_15]));
    expect(linesOf('inj-internal')).toEqual([expect.objectContaining({ final: true, status: 'error', error: expect.objectContaining({ code: 'AGENT_INTERNAL' }) })]);
  });

  test('the log rotates past its size limit, between runs only', async () => {
    const agent = startRuntime({ rotateBytes: 1_000 });
    agent.start();
    const directives = [REDUCE_15, REDUCE_15, REDUCE_15, REDUCE_15];
    await injectAndSettle(agent, 'inj-r1', await sealed('inj-r1', 'p', directives));
    expect(statSync(path.join(dirs.logs, EXECUTION_LOG_FILE)).size).toBeGreaterThan(1_000); // a run is never split
    await injectAndSettle(agent, 'inj-r2', await sealed('inj-r2', 'p', directives));
    expect(traceLines(ROTATED_LOG_FILE).every((l) => l.injectionId === 'inj-r1')).toBe(true);
    expect(traceLines().every((l) => l.injectionId === 'inj-r2')).toBe(true);
    expect(linesOf('inj-r2')).toHaveLength(9);
  });

  test('trace lines never exceed their byte bound', () => {
    const line = serializeTraceLine({
      v: 1,
      injectionId: 'i',
      programId: 'p',
      step: 1,
      instruction: 'X'.repeat(10_000),
      status: 'error',
      error: 'e'.repeat(10_000),
      outcome: { big: 'y'.repeat(10_000) },
      ts: new Date().toISOString(),
    });
    expect(Buffer.byteLength(line)).toBeLessThanOrEqual(MAX_TRACE_LINE_BYTES);
    expect(JSON.parse(line)).toMatchObject({ outcome: { truncated: true } });
  });

  test('handlers are pluggable by directive name, and names are validated', async () => {
    const registry = registerReferenceHandlers(new HandlerRegistry()).registerHandler('SAY_HELLO', (call) => ({ hello: call.step }));
    expect(() => registry.registerHandler('SAY_HELLO', () => undefined)).toThrow(/already registered/);
    expect(() => registry.registerHandler('../x', () => undefined)).toThrow(/must match/);
    const agent = startRuntime({ registry });
    agent.start();
    await injectAndSettle(agent, 'inj-hello', await sealed('inj-hello', 'p', [{ name: 'SAY_HELLO' }]));
    expect(linesOf('inj-hello')[1]).toMatchObject({ status: 'completed', outcome: { hello: 1 } });
  });

  test('the envelope binds a program: another agent, another reload, an expired or an older one is refused, and the last sequence survives a restart', async () => {
    let agent = startRuntime();
    agent.start();
    await injectAndSettle(agent, 'inj-other-agent', await sealed('inj-other-agent', 'p', [REDUCE_15], { agentId: 'agent-2' }));
    await injectAndSettle(agent, 'inj-moved', await sealed('inj-original', 'p', [REDUCE_15]));
    await injectAndSettle(agent, 'inj-expired', await sealed('inj-expired', 'p', [REDUCE_15], { notAfterMs: Date.now() - 1 }));
    await injectAndSettle(agent, 'inj-group', await sealed('inj-group', 'p', [REDUCE_15], { target: { kind: 'group', name: 'g' }, sequence: 1_000 }));
    expect(finalOf('inj-other-agent')).toMatchObject({ status: 'error', error: { code: 'ENVELOPE_WRONG_TARGET' } });
    expect(finalOf('inj-moved')).toMatchObject({ status: 'error', error: { code: 'ENVELOPE_RELOAD_MISMATCH' } });
    expect(finalOf('inj-expired')).toMatchObject({ status: 'error', error: { code: 'ENVELOPE_EXPIRED' } });
    expect(finalOf('inj-group')).toMatchObject({ status: 'completed' });
    expect(current()).toMatchObject({ reloadId: 'inj-group', sequence: 1_000 });

    await agent.stop();
    agent = startRuntime();
    agent.start();
    await injectAndSettle(agent, 'inj-same-seq', await sealed('inj-same-seq', 'p', [REDUCE_15], { sequence: 1_000 }));
    await injectAndSettle(agent, 'inj-older-seq', await sealed('inj-older-seq', 'p', [REDUCE_15], { sequence: 999 }));
    await injectAndSettle(agent, 'inj-newer-seq', await sealed('inj-newer-seq', 'p', [REDUCE_15], { sequence: 1_001 }));
    expect(finalOf('inj-same-seq')).toMatchObject({ status: 'error', error: { code: 'ENVELOPE_REPLAYED' } });
    expect(finalOf('inj-older-seq')).toMatchObject({ status: 'error', error: { code: 'ENVELOPE_STALE_SEQUENCE' } });
    expect(finalOf('inj-newer-seq')).toMatchObject({ status: 'completed' });
  });

  test('an agent refuses to start with a private key in its environment, or without trusted keys', () => {
    expect(() => loadAgentConfig({ OPENCLAW_TRUSTED_KEYS: '' }, 'host-1')).toThrow(/OPENCLAW_TRUSTED_KEYS: expected at least one/);
    expect(() => loadAgentConfig({ OPENCLAW_TRUSTED_KEYS: 'x' }, 'host-1')).toThrow(/not kid:base64-public-key/);
    const trusted = formatTrustedKey(key.keyId, key.publicKey);
    expect(() => loadAgentConfig({ OPENCLAW_TRUSTED_KEYS: trusted, OPENCLAW_SIGNING_KEY: formatSigningKey(key) }, 'host-1')).toThrow(/must not reach an agent/);
    expect([...loadAgentConfig({ OPENCLAW_TRUSTED_KEYS: trusted }, 'host-1').trustedKeys.keys()]).toEqual([key.keyId]);
  });
});

/** Protocol v2: the staged file and the signal in one write, then the reload's answer from .outcome-<R>.json. */
async function injectV2(agent: AgentRuntime, reloadId: string, program: Buffer): Promise<AgentOutcome> {
  writeFileSync(path.join(dirs.programs, stagedProgramFile(reloadId)), program);
  writeFileSync(path.join(dirs.programs, RELOAD_SIGNAL_FILE), formatReloadSignalV2(reloadId));
  await agent.checkNow();
  await agent.idle();
  return JSON.parse(readFileSync(path.join(dirs.programs, outcomeFile(reloadId)), 'utf8')) as AgentOutcome;
}

const restoreFor = (reloadId: string) => sealTestRestore({ key, agentId: AGENT_ID, reloadId: `${reloadId}.rollback` });

describe('agent runtime, protocol v2', () => {
  test('one outcome file answers a reload: its final line, its step lines, what it replaced and what runs now', async () => {
    const agent = startRuntime();
    agent.start();
    const first = await injectV2(agent, 'inj-a', await sealed('inj-a', 'prog-a', [REDUCE_15]));
    expect(first).toMatchObject({ v: 2, reloadId: 'inj-a', switched: true, replaced: null, final: { status: 'completed', programId: 'prog-a' }, current: { programId: 'prog-a', reloadId: 'inj-a' } });
    expect(first.lines.map((l) => `${l.step}:${l.status}`)).toEqual(['1:executing', '1:completed']);
    const second = await injectV2(agent, 'inj-b', await sealed('inj-b', 'prog-b', [REDUCE_15]));
    expect(second).toMatchObject({ switched: true, replaced: { programId: 'prog-a', reloadId: 'inj-a' }, current: { programId: 'prog-b', reloadId: 'inj-b' } });
    const refused = await injectV2(agent, 'inj-c', withBadSignature(await sealed('inj-c', 'prog-c', [REDUCE_15])));
    expect(refused).toMatchObject({ switched: false, replaced: null, final: { status: 'error', error: { code: 'BC_BAD_SIGNATURE' } }, current: { programId: 'prog-b' } });
    // v1 readers lose nothing: the same lines are in the log.
    expect(linesOf('inj-b').filter((l) => 'final' in l)).toHaveLength(1);
  });

  test('a restore puts back what the reload replaced from the agent\'s own record, and runs it again', async () => {
    const agent = startRuntime();
    agent.start();
    const old = await sealed('inj-old', 'prog-old', [REDUCE_15]);
    await injectV2(agent, 'inj-old', old);
    await injectV2(agent, 'inj-new', await sealed('inj-new', 'prog-new', [REDUCE_15]));
    const restored = await injectV2(agent, 'inj-new.rollback', await restoreFor('inj-new'));
    expect(restored).toMatchObject({ restore: 'restored', switched: true, replaced: { programId: 'prog-new' }, final: { status: 'completed', programId: 'prog-old' } });
    expect(restored.current).toMatchObject({ programId: 'prog-old', reloadId: 'inj-new.rollback' });
    expect(readFileSync(path.join(dirs.programs, PROGRAM_FILE))).toEqual(old);
    // The record is used once, and the kept bytes go with it.
    expect(existsSync(path.join(dirs.state, 'replaced.json'))).toBe(false);
    expect(existsSync(path.join(dirs.state, 'replaced.bc'))).toBe(false);
  });

  test('a restore of a reload that replaced nothing removes the program', async () => {
    const agent = startRuntime();
    agent.start();
    await injectV2(agent, 'inj-first', await sealed('inj-first', 'prog-first', [REDUCE_15]));
    const restored = await injectV2(agent, 'inj-first.rollback', await restoreFor('inj-first'));
    expect(restored).toMatchObject({ restore: 'restored', switched: true, final: { status: 'completed', programId: null }, current: { programId: null, reloadId: 'inj-first.rollback' } });
    expect(existsSync(path.join(dirs.programs, PROGRAM_FILE))).toBe(false);
  });

  test('the agent\'s compare-and-swap: superseded touches nothing; a program that reverted itself needs nothing', async () => {
    const agent = startRuntime();
    agent.start();
    await injectV2(agent, 'inj-1', await sealed('inj-1', 'prog-1', [REDUCE_15]));
    await injectV2(agent, 'inj-2', await sealed('inj-2', 'prog-2', [REDUCE_15]));
    await injectV2(agent, 'inj-3', await sealed('inj-3', 'prog-3', [REDUCE_15]));
    const superseded = await injectV2(agent, 'inj-2.rollback', await restoreFor('inj-2'));
    expect(superseded).toMatchObject({ restore: 'superseded', switched: false, final: { status: 'error', error: { code: 'RESTORE_SUPERSEDED' } }, current: { programId: 'prog-3', reloadId: 'inj-3' } });
    expect(current()).toMatchObject({ programId: 'prog-3', reloadId: 'inj-3' });

    const failing = await injectV2(agent, 'inj-4', await sealed('inj-4', 'prog-4', [{ name: 'SIMULATE_FAILURE', params: { MESSAGE: text('no') } }]));
    expect(failing.final).toMatchObject({ status: 'error', revertedTo: 'prog-3' });
    const nothing = await injectV2(agent, 'inj-4.rollback', await restoreFor('inj-4'));
    expect(nothing).toMatchObject({ restore: 'nothing-to-undo', switched: false, final: { status: 'completed', programId: 'prog-3' } });
    expect(current()).toMatchObject({ programId: 'prog-3', reloadId: 'inj-3' });
  });

  test('a kept program that no trusted key signed is not run: the restore is refused and nothing changes', async () => {
    const agent = startRuntime();
    agent.start();
    await injectV2(agent, 'inj-x', await sealed('inj-x', 'prog-x', [REDUCE_15]));
    await injectV2(agent, 'inj-y', await sealed('inj-y', 'prog-y', [REDUCE_15]));
    writeFileSync(path.join(dirs.state, 'replaced.bc'), withBadSignature(await sealed('inj-x', 'prog-evil', [REDUCE_15])));
    const refused = await injectV2(agent, 'inj-y.rollback', await restoreFor('inj-y'));
    expect(refused).toMatchObject({ switched: false, final: { status: 'error', error: { code: 'BC_BAD_SIGNATURE' } } });
    expect(current()).toMatchObject({ programId: 'prog-y', reloadId: 'inj-y' });
  });

  test('outcome files are bounded: the agent keeps the newest 32', async () => {
    const agent = startRuntime();
    agent.start();
    for (let i = 0; i < 40; i++) await injectV2(agent, `inj-${i}`, await sealed(`inj-${i}`, 'p', [REDUCE_15]));
    const kept = readdirSync(dirs.programs).filter((n) => n.startsWith('.outcome-'));
    expect(kept).toHaveLength(32);
    expect(kept).toContain(outcomeFile('inj-39'));
  });
});
