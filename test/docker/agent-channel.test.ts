// The injector's side of the protocol against an in-memory container: trace reading, rotation, timeouts, stops.
import { formatReloadSignalV2, outcomeFile } from '../../src/agent/protocol';
import {
  createAgentChannel,
  parseOutcome,
  MAX_TRACE_OUTCOME_BYTES,
  MAX_TRACE_TEXT_CHARS,
  parseTraceChunk,
  toTraceLine,
} from '../../src/docker/agent-channel';
import { DockerAdapterError } from '../../src/docker/errors';
import type { ContainerState, DockerAdapter, FileRead, FileStat } from '../../src/docker/types';

const LOG = '/app/logs/execution.log';
const ROTATED = '/app/logs/execution.log.1';

class MemoryContainer implements DockerAdapter {
  files = new Map<string, Buffer>();
  running = true;
  reads = 0;

  append(file: string, line: object): void {
    this.files.set(file, Buffer.concat([this.files.get(file) ?? Buffer.alloc(0), Buffer.from(JSON.stringify(line) + '\n')]));
  }
  async ping() {
    return { version: 'memory', apiVersion: '0' };
  }
  async listAgents() {
    return [];
  }
  async findAgent() {
    return null;
  }
  async containerState(): Promise<ContainerState> {
    return { running: this.running, status: this.running ? 'running' : 'exited', health: 'none' };
  }
  async stat(_id: string, path: string): Promise<FileStat> {
    const f = this.files.get(path);
    return f ? { found: true, size: f.length, mode: 0o644, isSymlink: false, isDirectory: false } : { found: false };
  }
  async readFile(_id: string, path: string, maxBytes: number): Promise<FileRead> {
    this.reads++;
    const f = this.files.get(path);
    if (!f) return { found: false };
    if (f.length > maxBytes) throw new DockerAdapterError('ARCHIVE_TOO_LARGE', 'too large');
    return { found: true, content: Buffer.from(f), size: f.length };
  }
  async writeFile(_id: string, path: string, content: Buffer) {
    this.files.set(path, Buffer.from(content));
  }
  async writeFiles(_id: string, dir: string, files: readonly { name: string; content: Buffer }[]) {
    for (const f of files) this.files.set(`${dir}/${f.name}`, Buffer.from(f.content));
  }
  async exec() {
    return { stdout: '', stderr: '', exitCode: 0 };
  }
}

const step = (id: string, n: number, status = 'completed') => ({ v: 1, injectionId: id, programId: 'p', step: n, instruction: 'X', status, ts: new Date().toISOString() });
const final = (id: string, status = 'completed') => ({ v: 1, injectionId: id, programId: 'p', final: true, status, steps: 1, memory: { initialBytes: 1, finalBytes: 1, peakBytes: 1 }, cpu: { userMs: 0, systemMs: 0 }, durationMs: 1, ts: new Date().toISOString() });

const finalLine = (reloadId: string, extra: object = {}) => ({ v: 1, injectionId: reloadId, programId: 'p', final: true, status: 'completed', steps: 1, ts: '2026-12-02T00:00:00Z', ...extra });
const answer = (reloadId: string, extra: object = {}) =>
  Buffer.from(JSON.stringify({ v: 2, reloadId, final: finalLine(reloadId), lines: [], linesTruncated: false, replaced: null, switched: true, current: null, ...extra }));

describe('agent channel, protocol v2', () => {
  test('sendV2 writes the staged program first and the v2 signal after it, in one call', async () => {
    const container = new MemoryContainer();
    const order: string[] = [];
    container.writeFiles = async (_id, dir, files) => {
      for (const f of files) {
        order.push(f.name);
        container.files.set(`${dir}/${f.name}`, f.content);
      }
    };
    await createAgentChannel(container).sendV2('c', 'inj-1', Buffer.from('sealed'));
    expect(order).toEqual(['.staged-inj-1.bc', 'RELOAD_SIGNAL']);
    expect(container.files.get('/app/injected-programs/RELOAD_SIGNAL')?.toString()).toBe(formatReloadSignalV2('inj-1'));
  });

  test('readOutcome polls until the answer is there, then returns it checked', async () => {
    const container = new MemoryContainer();
    const channel = createAgentChannel(container);
    setTimeout(() => container.files.set(`/app/injected-programs/${outcomeFile('inj-2')}`, answer('inj-2', { replaced: { programId: 'old', reloadId: 'inj-1', sha256: null } })), 150);
    const outcome = await channel.readOutcome('c', 'inj-2', { timeoutMs: 5_000 });
    expect(outcome).toMatchObject({ final: { status: 'completed', injectionId: 'inj-2' }, replaced: { programId: 'old' }, switched: true });
    expect(container.reads).toBeGreaterThan(1);
  });

  test('readOutcome gives null at its timeout, and CONTAINER_NOT_RUNNING for a stopped container', async () => {
    const container = new MemoryContainer();
    const channel = createAgentChannel(container);
    expect(await channel.readOutcome('c', 'inj-3', { timeoutMs: 300 })).toBeNull();
    container.running = false;
    await expect(channel.readOutcome('c', 'inj-3', { timeoutMs: 5_000 })).rejects.toMatchObject({ code: 'CONTAINER_NOT_RUNNING' });
  });

  test('a hostile answer is refused whole, or bounded where it enters the injector', () => {
    expect(() => parseOutcome(Buffer.from('not json'), 'inj-4')).toThrow(/not JSON/);
    expect(() => parseOutcome(answer('inj-other'), 'inj-4')).toThrow(/reload id/);
    expect(() => parseOutcome(answer('inj-4', { final: finalLine('inj-other') }), 'inj-4')).toThrow(/no final line/);
    expect(() => parseOutcome(answer('inj-4', { replaced: { programId: 'x'.repeat(500), reloadId: 'a', sha256: null } }), 'inj-4')).toThrow(/replaced/);
    const step = (i: number, instruction: string) => ({ v: 1, injectionId: 'inj-4', programId: 'p', step: i, instruction, status: 'completed', ts: '2026-12-02T00:00:00Z' });
    const many = Array.from({ length: 500 }, (_, i) => step(i, `\u001b[31m${'i'.repeat(1_000)}`));
    const bounded = parseOutcome(answer('inj-4', { lines: [...many, step(1, 'other'), { ...step(2, 'foreign'), injectionId: 'inj-x' }] }), 'inj-4');
    expect(bounded.lines).toHaveLength(200);
    expect(bounded.truncated).toBe(true);
    expect(bounded.lines[0].instruction?.length).toBeLessThanOrEqual(MAX_TRACE_TEXT_CHARS);
    expect(bounded.lines[0].instruction).not.toContain('\u001b');
  });
});

describe('agent channel', () => {
  test('stage and reload write the staged program and a v1 signal naming it', async () => {
    const c = new MemoryContainer();
    const channel = createAgentChannel(c);
    await channel.stage('c1', 'inj-1', Buffer.from('prog'));
    await channel.reload('c1', 'inj-1', true);
    expect(c.files.get('/app/injected-programs/.staged-inj-1.bc')?.toString()).toBe('prog');
    expect(JSON.parse(c.files.get('/app/injected-programs/RELOAD_SIGNAL')?.toString() ?? '')).toEqual({ v: 1, id: 'inj-1', program: '.staged-inj-1.bc' });
    await channel.reload('c1', 'inj-1.rollback', false);
    expect(JSON.parse(c.files.get('/app/injected-programs/RELOAD_SIGNAL')?.toString() ?? '')).toEqual({ v: 1, id: 'inj-1.rollback', program: null });
    await expect(channel.stage('c1', '../evil', Buffer.from('x'))).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });

  test('touchedBy finds any mark a reload left: its staged program, its signal, or CURRENT naming it', async () => {
    const fresh = () => {
      const c = new MemoryContainer();
      c.files.set('/app/injected-programs/program.bc', Buffer.from('old'));
      c.files.set('/app/injected-programs/CURRENT', Buffer.from(JSON.stringify({ programId: 'p', reloadId: 'base', sha256: 'ab', since: 'now' })));
      return { c, channel: createAgentChannel(c) };
    };
    const untouched = fresh();
    expect(await untouched.channel.touchedBy('c1', 'inj-1')).toBe(false);
    await untouched.channel.reload('c1', 'other', true);
    expect(await untouched.channel.touchedBy('c1', 'inj-1')).toBe(false);

    const staged = fresh();
    await staged.channel.stage('c1', 'inj-1', Buffer.from('new'));
    expect(await staged.channel.touchedBy('c1', 'inj-1')).toBe(true);

    const signalled = fresh();
    await signalled.channel.reload('c1', 'inj-1', false);
    expect(await signalled.channel.touchedBy('c1', 'inj-1')).toBe(true);

    // Acted on: the staged file is gone and the signal overwritten by a later one, but CURRENT names the reload.
    const switched = fresh();
    switched.c.files.set('/app/injected-programs/CURRENT', Buffer.from(JSON.stringify({ programId: 'q', reloadId: 'inj-1', sha256: 'cd', since: 'now' })));
    await switched.channel.reload('c1', 'later', true);
    expect(await switched.channel.touchedBy('c1', 'inj-1')).toBe(true);
    await expect(switched.channel.touchedBy('c1', '../evil')).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });

  test('snapshot reports the program, CURRENT and the log size, and refuses a stopped container', async () => {
    const c = new MemoryContainer();
    const channel = createAgentChannel(c);
    c.files.set('/app/injected-programs/program.bc', Buffer.from('old'));
    c.files.set('/app/injected-programs/CURRENT', Buffer.from(JSON.stringify({ programId: 'p', reloadId: 'r', sha256: 'ab', since: 'now' })));
    c.append(LOG, step('old', 1));
    const snap = await channel.snapshot('c1');
    expect(snap).toEqual({ program: Buffer.from('old'), current: { programId: 'p', reloadId: 'r', sha256: 'ab', sequence: null }, logOffset: c.files.get(LOG)?.length });
    c.running = false;
    await expect(channel.snapshot('c1')).rejects.toMatchObject({ code: 'CONTAINER_NOT_RUNNING', retryable: false });
  });

  test('readTrace returns as soon as the final line lands, with only this reload id, from the offset', async () => {
    const c = new MemoryContainer();
    const channel = createAgentChannel(c);
    c.append(LOG, step('inj-1', 99)); // before the offset: must not be read
    const offset = c.files.get(LOG)?.length ?? 0;
    c.append(LOG, step('other', 1));
    c.append(LOG, step('inj-1', 1, 'executing'));
    setTimeout(() => {
      c.append(LOG, step('inj-1', 1));
      c.append(LOG, final('inj-1'));
    }, 60);
    const started = Date.now();
    const result = await channel.readTrace('c1', 'inj-1', offset, { timeoutMs: 10_000 });
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(result.final).toMatchObject({ final: true, status: 'completed', memory: { peakBytes: 1 } });
    expect(result.lines.map((l) => `${l.step ?? 'final'}:${l.status}`)).toEqual(['1:executing', '1:completed', 'final:completed']);
  });

  test('a half-written last line is left for the next poll', () => {
    const bytes = Buffer.from(JSON.stringify(step('i', 1)) + '\n' + JSON.stringify(final('i')).slice(0, 20));
    const { lines, next } = parseTraceChunk(bytes, 0, 'i');
    expect(lines).toHaveLength(1);
    expect(next).toBe(bytes.indexOf(0x0a) + 1);
  });

  test('when the log rotates under it, readTrace finishes the old file and starts the new one', async () => {
    const c = new MemoryContainer();
    const channel = createAgentChannel(c);
    for (let i = 0; i < 20; i++) c.append(LOG, step('filler', i));
    const offset = c.files.get(LOG)?.length ?? 0;
    c.append(LOG, step('inj-r', 1, 'executing'));
    const reading = channel.readTrace('c1', 'inj-r', offset, { timeoutMs: 10_000 });
    await new Promise((r) => setTimeout(r, 60));
    c.append(LOG, step('inj-r', 1));
    c.files.set(ROTATED, c.files.get(LOG) ?? Buffer.alloc(0));
    c.files.delete(LOG);
    c.append(LOG, final('inj-r'));
    const result = await reading;
    expect(result.lines.map((l) => `${l.step ?? 'final'}:${l.status}`)).toEqual(['1:executing', '1:completed', 'final:completed']);
  });

  test('readTrace gives final null at its timeout, and polls less often as it waits', async () => {
    const c = new MemoryContainer();
    const channel = createAgentChannel(c);
    const polls: number[] = [];
    const result = await channel.readTrace('c1', 'never', 0, { timeoutMs: 600, onPoll: (n) => polls.push(n) });
    expect(result.final).toBeNull();
    // 25 ms growing by 1.5x to 500 ms: about 7 polls in 600 ms, not 24.
    expect(polls.length).toBeLessThan(12);
  });

  test('readTrace stops with ABORTED when its signal fires', async () => {
    const c = new MemoryContainer();
    const channel = createAgentChannel(c);
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 50);
    await expect(channel.readTrace('c1', 'x', 0, { timeoutMs: 10_000, signal: controller.signal })).rejects.toMatchObject({ code: 'ABORTED' });
  });

  test('readTrace fails with CONTAINER_NOT_RUNNING when the container stops before the final line', async () => {
    const c = new MemoryContainer();
    const channel = createAgentChannel(c);
    setTimeout(() => {
      c.running = false;
    }, 100);
    await expect(channel.readTrace('c1', 'x', 0, { timeoutMs: 10_000 })).rejects.toMatchObject({ code: 'CONTAINER_NOT_RUNNING', retryable: false });
  });

  test('readTrace keeps at most maxLines lines but always the final one', async () => {
    const c = new MemoryContainer();
    const channel = createAgentChannel(c);
    for (let i = 1; i <= 10; i++) c.append(LOG, step('m', i));
    c.append(LOG, final('m'));
    const result = await channel.readTrace('c1', 'm', 0, { timeoutMs: 1_000, maxLines: 3 });
    expect(result.lines).toHaveLength(3);
    expect(result.truncated).toBe(true);
    expect(result.final).toMatchObject({ final: true });
  });

  describe('a hostile agent', () => {
    const megabyte = 'A'.repeat(1024 * 1024);

    test('cannot push megabytes or terminal escapes into a history through its final line: every field is bounded', async () => {
      const c = new MemoryContainer();
      const channel = createAgentChannel(c);
      const offset = (await channel.snapshot('c1')).logOffset;
      c.append(LOG, {
        ...final('inj-h', 'error'),
        error: { code: `X${megabyte}`, message: `\u001b]0;owned\u0007\u001b[2J${megabyte}` },
        outcome: { blob: megabyte },
        instruction: `\u009b31m${megabyte}`,
      });
      const result = await channel.readTrace('c1', 'inj-h', offset, { timeoutMs: 10_000 });

      const line = result.final;
      expect(line?.error).toEqual({ code: 'AGENT_ERROR', message: expect.any(String) });
      const message = (line?.error as { message: string }).message;
      expect(message.length).toBeLessThanOrEqual(MAX_TRACE_TEXT_CHARS);
      expect(message).toMatch(/^\]0;owned\[2JA+…$/);
      expect(line?.outcome).toEqual({ truncated: true });
      expect(line?.instruction?.length).toBeLessThanOrEqual(MAX_TRACE_TEXT_CHARS);
      // No control character is left: raw, or as the \u00XX escape JSON gives a C0 one.
      expect(JSON.stringify(line)).not.toMatch(/\\u00[0-9a-f]{2}|[\u007f-\u009f]/);
      expect(Buffer.byteLength(JSON.stringify(line))).toBeLessThan(2 * MAX_TRACE_TEXT_CHARS + MAX_TRACE_OUTCOME_BYTES + 1_000);
    });

    test('keeps a well-formed error and a small outcome as written, minus control characters', () => {
      const line = toTraceLine({
        ...final('inj-k', 'error'),
        error: { code: 'VM_DIRECTIVE_FAILED', message: 'boom\nnext\u001b[0m' },
        outcome: { saved: 15, note: 'ok\u0007', nested: { list: ['a\u009b', 1] }, ['__proto__']: { polluted: true } },
      });
      expect(line?.error).toEqual({ code: 'VM_DIRECTIVE_FAILED', message: 'boomnext[0m' });
      expect(line?.outcome).toEqual({ saved: 15, note: 'ok', nested: { list: ['a', 1] }, ['__proto__']: { polluted: true } });
      expect(Object.getPrototypeOf(line?.outcome)).toBe(Object.prototype);
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    });

    test('whose ids, timestamps or numbers are out of bounds writes lines the injector does not count as its trace', () => {
      expect(toTraceLine({ ...final('inj-k'), programId: 'p'.repeat(129) })).toBeNull();
      expect(toTraceLine({ ...final('inj-k'), programId: 'p\u001b' })).toBeNull();
      expect(toTraceLine({ ...final('inj-k'), ts: 't'.repeat(41) })).toBeNull();
      expect(toTraceLine({ ...final('inj-k'), injectionId: `inj-${'k'.repeat(200)}` })).toBeNull();
      const odd = toTraceLine({ ...final('inj-k'), steps: -1, durationMs: 1e400, revertedTo: 'r'.repeat(1_000), memory: { initialBytes: -5, finalBytes: 1, peakBytes: 1 } });
      expect(odd).not.toBeNull();
      expect(odd).not.toHaveProperty('steps');
      expect(odd).not.toHaveProperty('durationMs');
      expect(odd).not.toHaveProperty('revertedTo');
      expect(odd).not.toHaveProperty('memory');
    });
  });
});
