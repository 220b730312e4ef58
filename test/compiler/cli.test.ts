// The `openclaw compile` command, driven in-process through its injected IO, plus one real spawned process.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { decodeUnverified } from '../../src/bytecode/format';
import { run } from '../../src/cli/commands/compile';
import { CliIo } from '../../src/cli/io';
import { main } from '../../src/cli/main';
import { formatSigningKey } from '../../src/signing/keys';
import { sealProgram } from '../../src/signing/seal';
import { createLocalSigner } from '../../src/signing/signer';
import { buildCli } from '../support/cli-build';
import { buildBody, REDUCE_15 } from '../support/programs';
import { testSigningKey } from '../support/signing';
import { SEED_PROGRAMS, TEST_KEY, TEST_TRUSTED_KEYS } from './fixtures';


function fakeIo(files: Record<string, string>, stdin = '', binaries: Record<string, Buffer> = {}) {
  const out = { stdout: '', stderr: '' };
  const io: CliIo = {
    stdout: { write: (t) => void (out.stdout += t) },
    stderr: { write: (t) => void (out.stderr += t) },
    readFile: async (p) => {
      if (!(p in files)) throw new Error(`ENOENT: no such file, open '${p}'`);
      return files[p];
    },
    readStdin: async () => stdin,
    readBinaryFile: async (p) => {
      if (!(p in binaries)) throw new Error(`ENOENT: no such file, open '${p}'`);
      return binaries[p];
    },
    trustedKeys: () => TEST_TRUSTED_KEYS,
  };
  return { io, out };
}

describe('openclaw compile', () => {
  it('prints the disassembly and rollout and exits 0 for a valid program', async () => {
    const { io, out } = fakeIo({ 'seed.oc': SEED_PROGRAMS.full });
    expect(await run(['seed.oc'], io)).toBe(0);
    expect(out.stdout).toContain('; OpenClaw bytecode v2');
    expect(out.stdout).toContain('; signature none: an unsigned dry run, no agent accepts it');
    expect(out.stdout).toContain('DIRECTIVE     #5 2          ; REDUCE_COSTS with 2 params');
    expect(out.stdout).toContain('target=optimization_agents deadline=2h');
    expect(out.stderr).toBe('');
  });

  it('with --json prints base64 bytecode (an unsigned dry run), plus the rollout', async () => {
    const { io, out } = fakeIo({ 'p.oc': 'SIMULATE_WORK BY ${deadline}' });
    expect(await run(['p.oc', '--json', '--context', '{"deadline":"90s"}'], io)).toBe(0);
    const record = JSON.parse(out.stdout);
    expect(record.ok).toBe(true);
    const decoded = decodeUnverified(Buffer.from(record.bytecode, 'base64'));
    expect(decoded.programId).toBe('openclaw-cli');
    expect(decoded.container).toMatchObject({ unsigned: true, dryRun: true });
    expect(record.rollout.deadlineMs).toBe(90_000);
    expect(record.directives).toEqual([{ name: 'SIMULATE_WORK', line: 1, column: 1, amount: '1m30s', params: {} }]);
  });

  it('with --bytecode lists a program file and says which trusted key verified it (exit 0), or why not (exit 1)', async () => {
    const envelope = { reloadId: 'inj-9', target: { kind: 'agent' as const, name: 'agent-3' }, notAfterMs: Date.UTC(2030, 0, 1), sequence: 5 };
    const good = await sealProgram(buildBody('inj-9', [REDUCE_15]), envelope, createLocalSigner(TEST_KEY));
    const foreign = await sealProgram(buildBody('inj-9', [REDUCE_15]), envelope, createLocalSigner(testSigningKey('elsewhere')));
    const trusted = fakeIo({}, '', { 'good.bc': good, 'foreign.bc': foreign, 'junk.bc': Buffer.from('not a program') });
    expect(await run(['--bytecode', 'good.bc'], trusted.io)).toBe(0);
    expect(trusted.out.stdout).toContain(`; signature Ed25519, verified against trusted key ${TEST_KEY.keyId}`);
    expect(trusted.out.stdout).toContain('; envelope  target agent agent-3, reload inj-9, sequence 5');
    expect(await run(['--bytecode', 'foreign.bc'], trusted.io)).toBe(1);
    expect(trusted.out.stdout).toMatch(/; signature NOT VERIFIED: BC_UNKNOWN_KEY: the program is signed with key "elsewhere-/);
    expect(await run(['--bytecode', 'junk.bc'], trusted.io)).toBe(1);
    expect(trusted.out.stderr).toContain('junk.bc: BC_BAD_MAGIC');
  });

  it('reads the program from stdin when FILE is -', async () => {
    const { io, out } = fakeIo({}, 'OPTIMIZE_THROUGHPUT\n');
    expect(await run(['-'], io)).toBe(0);
    expect(out.stdout).toContain('OPTIMIZE_THROUGHPUT with 0 params');
  });

  it('prints each error as FILE:LINE:COL with the source line and a caret, and exits 1', async () => {
    const { io, out } = fakeIo({ 'bad.oc': 'REDUCE_COSTS BY 15% {\n  BUDGTE: $5\n  DEADLINE: 9d\n}' });
    expect(await run(['bad.oc'], io)).toBe(1);
    expect(out.stdout).toBe('');
    expect(out.stderr).toBe(
      [
        'bad.oc:2:3: error[UNKNOWN_KEY]: REDUCE_COSTS has no key BUDGTE. Did you mean BUDGET?',
        '  BUDGTE: $5',
        '  ^~~~~~',
        'bad.oc:3:13: error[DEADLINE_TOO_LONG]: DEADLINE is 9d, over the 7d maximum; split the rollout or shorten it',
        '  DEADLINE: 9d',
        '            ^~',
        '',
      ].join('\n'),
    );
  });

  it('names stdin <stdin> in diagnostics', async () => {
    const { io, out } = fakeIo({}, 'REDUCE_COSTS BY');
    expect(await run(['-'], io)).toBe(1);
    expect(out.stderr.split('\n')[0]).toMatch(/^<stdin>:1:16: error\[SYNTAX_ERROR\]: expected .*a value/);
  });

  it('rejects bad usage with exit 2: no file, unknown option, bad context JSON, unreadable file', async () => {
    for (const argv of [[], ['a.oc', '--frobnicate'], ['a.oc', '--context', '{nope'], ['a.oc', '--context', '[1]'], ['missing.oc']]) {
      const { io, out } = fakeIo({ 'a.oc': 'OPTIMIZE_THROUGHPUT' });
      expect(await run(argv, io)).toBe(2);
      expect(out.stderr).toMatch(/^openclaw compile: /);
    }
  });

  it('is reached through the openclaw dispatcher, which rejects unknown commands', async () => {
    const { io, out } = fakeIo({ 'a.oc': 'OPTIMIZE_THROUGHPUT' });
    expect(await main(['compile', 'a.oc'], io)).toBe(0);
    expect(out.stdout).toContain('OPTIMIZE_THROUGHPUT');
    const other = fakeIo({});
    expect(await main(['frobnicate'], other.io)).toBe(2);
    expect(other.out.stderr).toContain("unknown command 'frobnicate'");
    expect(other.out.stderr).toContain('compile');
  });
});

describe('openclaw compile as a real process', () => {
  it('exits 1 with the error on stderr, and 0 with the disassembly on stdout', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'openclaw-cli-'));
    // Transpiled, not type-checked (typecheck is its own step): what runs is the emitted JavaScript either way.
    const cli = buildCli(path.join(dir, 'build'));
    const env = { ...process.env, ...cli.env, OPENCLAW_SIGNING_KEY: formatSigningKey(TEST_KEY), OPENCLAW_DATA_DIR: dir };
    const bin = cli.main;
    expect(existsSync(bin)).toBe(true);
    writeFileSync(path.join(dir, 'bad.oc'), 'REDUCE_COST BY 15%\n');
    const bad = spawnSync(process.execPath, [bin, 'compile', path.join(dir, 'bad.oc')], { env, encoding: 'utf8' });
    expect(bad.status).toBe(1);
    expect(bad.stderr).toContain(`${path.join(dir, 'bad.oc')}:1:1: error[UNKNOWN_DIRECTIVE]: unknown directive REDUCE_COST. Did you mean REDUCE_COSTS?`);
    const good = spawnSync(process.execPath, [bin, 'compile', '-'], { env, encoding: 'utf8', input: SEED_PROGRAMS.reduce });
    expect(good.status).toBe(0);
    expect(good.stdout).toContain('REDUCE_COSTS with 0 params');
  }, 60_000);
});
