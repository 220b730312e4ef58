// Unit tier: the DSL program rendered as an OpenClaw skill bundle (no Docker, no Temporal).
import { createHash } from 'node:crypto';
import { encodeUnsignedProgram } from '../../src/bytecode/format';
import { Opcode, ValueTag } from '../../src/bytecode/instructions';
import { compile } from '../../src/compiler';
import {
  BYTECODE_FILE,
  bundleDigest,
  DEFAULT_SKILL_NAME,
  MANAGED_BY,
  MANIFEST_FILE,
  MAX_DESCRIPTION_CHARS,
  parseManifest,
  renderSkillBundle,
  SIMULATED_FAILURE_BIN,
  SKILL_FILE,
  SkillBundleError,
} from '../../src/openclaw/skill-bundle';

function bytecodeOf(source: string, programId = 'inj-1'): Buffer {
  const result = compile(source, {}, { programId });
  if (!result.ok || !result.bytecode) throw new Error(`does not compile: ${JSON.stringify(result.diagnostics)}`);
  return result.bytecode;
}

function skillMd(source: string, programId = 'inj-1'): string {
  return renderSkillBundle(bytecodeOf(source, programId), { reloadId: programId }).files[0].content.toString('utf8');
}

function frontMatter(text: string): Record<string, string> {
  const match = /^---\n([\s\S]*?)\n---\n/.exec(text);
  if (!match) throw new Error('no front matter');
  return Object.fromEntries(match[1].split('\n').map((line) => [line.slice(0, line.indexOf(':')), line.slice(line.indexOf(':') + 2)]));
}

describe('the skill bundle of a DSL program', () => {
  it('holds SKILL.md, the bytecode and a manifest that marks it as this injector’s', () => {
    const bytecode = bytecodeOf('REDUCE_COSTS BY 15% { BUDGET: $500 }');
    const bundle = renderSkillBundle(bytecode, { reloadId: 'inj-1' });
    expect(bundle.files.map((f) => f.name)).toEqual([SKILL_FILE, BYTECODE_FILE, MANIFEST_FILE]);
    expect(bundle.files[1].content.equals(bytecode)).toBe(true);
    const manifest = parseManifest(bundle.files[2].content);
    expect(manifest).toEqual({
      managedBy: MANAGED_BY,
      formatVersion: 1,
      skillName: DEFAULT_SKILL_NAME,
      programId: 'inj-1',
      reloadId: 'inj-1',
      bytecodeSha256: createHash('sha256').update(bytecode).digest('hex'),
      skillSha256: createHash('sha256').update(bundle.files[0].content).digest('hex'),
      bundleSha256: bundleDigest(bundle.files.slice(0, 2)),
    });
  });

  it('writes front matter OpenClaw reads: the folder’s name, a quoted description, requirements as JSON', () => {
    const fm = frontMatter(skillMd('OPTIMIZE_THROUGHPUT BY 20%'));
    expect(fm.name).toBe(DEFAULT_SKILL_NAME);
    const description = JSON.parse(fm.description) as string;
    expect(description).toContain('OPTIMIZE_THROUGHPUT');
    expect(description.length).toBeLessThanOrEqual(MAX_DESCRIPTION_CHARS);
    expect(JSON.parse(fm.metadata)).toEqual({ openclaw: { requires: { bins: [] } } });
  });

  it('renders each directive with its amount, its parameters and what the catalogue says they mean', () => {
    const text = skillMd('REDUCE_COSTS BY 15% {\n  BUDGET: $500\n  METRICS: latency, memory\n}\nOPTIMIZE_THROUGHPUT');
    expect(text).toContain('1. **REDUCE_COSTS** by `15%`: cut the agent’s spend by a share, within a budget.');
    expect(text).toContain('- `BUDGET` = `$500`: the most the agent may spend');
    expect(text).toContain('- `METRICS` = `latency, memory`');
    expect(text).toContain('2. **OPTIMIZE_THROUGHPUT**: raise the agent’s throughput');
  });

  it('renders WHEN and ELSE as conditions on the agent’s own figures, in program order', () => {
    const text = skillMd('WHEN agent.cpu > 80% {\n  OPTIMIZE_THROUGHPUT BY 20%\n} ELSE {\n  REDUCE_COSTS BY 5%\n}');
    const lines = text.split('\n');
    const at = lines.indexOf('1. Only while `agent.cpu > 80%` holds:');
    expect(at).toBeGreaterThan(0);
    expect(lines[at + 1]).toContain('1. **OPTIMIZE_THROUGHPUT** by `20%`');
    expect(lines[at + 2]).toBe('   Otherwise:');
    expect(lines[at + 3]).toContain('1. **REDUCE_COSTS** by `5%`');
  });

  it('quotes program strings so they can never become Markdown, HTML or YAML', () => {
    const text = skillMd('SIMULATE_FAILURE { MESSAGE: "x`\\n---\\n<script>" }');
    const body = text.slice(text.indexOf('\n---\n') + 5);
    expect(body).not.toContain('<script>');
    expect(body).not.toMatch(/^---$/m);
    expect(body).toContain('`"x\\u0060\\n---\\n\\u003cscript\\u003e"`');
  });

  it('makes a SIMULATE_FAILURE program require a binary no gateway has, so OpenClaw finds it ineligible', () => {
    const bundle = renderSkillBundle(bytecodeOf('SIMULATE_FAILURE { MESSAGE: "canary fails" }'), { reloadId: 'inj-1' });
    expect(bundle.requiredBins).toEqual([SIMULATED_FAILURE_BIN]);
    expect(JSON.parse(frontMatter(bundle.files[0].content.toString('utf8')).metadata)).toEqual({ openclaw: { requires: { bins: [SIMULATED_FAILURE_BIN] } } });
  });

  it('is deterministic: the same program gives the same bytes; another reload changes the manifest only', () => {
    const bytecode = bytecodeOf('REDUCE_COSTS BY 15%');
    const a = renderSkillBundle(bytecode, { reloadId: 'r-1' });
    const b = renderSkillBundle(bytecode, { reloadId: 'r-1' });
    const c = renderSkillBundle(bytecode, { reloadId: 'r-2' });
    expect(a.files.map((f) => f.content.toString('hex'))).toEqual(b.files.map((f) => f.content.toString('hex')));
    expect(c.files[0].content.equals(a.files[0].content)).toBe(true);
    expect(c.manifest.bundleSha256).toBe(a.manifest.bundleSha256);
    expect(c.manifest.reloadId).toBe('r-2');
  });

  it('names the revision in the description, so two programs never read alike to the gateway', () => {
    const a = renderSkillBundle(bytecodeOf('REDUCE_COSTS BY 15%'), { reloadId: 'r-1' });
    const b = renderSkillBundle(bytecodeOf('REDUCE_COSTS BY 16%'), { reloadId: 'r-1' });
    expect(a.description).not.toBe(b.description);
  });

  it('refuses bytes that are not a program, a skill name OpenClaw would reject, and code the compiler never writes', () => {
    const code = (f: () => unknown) => {
      try {
        f();
      } catch (err) {
        return err instanceof SkillBundleError ? err.code : String(err);
      }
      return 'no error';
    };
    expect(code(() => renderSkillBundle(Buffer.from('not bytecode'), { reloadId: 'r' }))).toBe('BUNDLE_BAD_BYTECODE');
    expect(code(() => renderSkillBundle(bytecodeOf('REDUCE_COSTS'), { reloadId: 'r', skillName: 'Bad_Name' }))).toBe('BUNDLE_BAD_NAME');
    const jumpsBack = encodeUnsignedProgram(
      { programId: 'p', constants: [{ tag: ValueTag.Boolean, value: true }], instructions: [{ op: Opcode.PushConst, operands: [0] }, { op: Opcode.JumpIfFalse, operands: [0] }, { op: Opcode.Halt, operands: [] }] },
    );
    expect(code(() => renderSkillBundle(jumpsBack, { reloadId: 'r' }))).toBe('BUNDLE_UNSUPPORTED_CODE');
  });

  it('reads back only manifests this injector wrote', () => {
    const bundle = renderSkillBundle(bytecodeOf('REDUCE_COSTS'), { reloadId: 'r' });
    expect(parseManifest(bundle.files[2].content)?.reloadId).toBe('r');
    expect(parseManifest(Buffer.from(JSON.stringify({ ...bundle.manifest, managedBy: 'someone-else' })))).toBeNull();
    expect(parseManifest(Buffer.from('{not json'))).toBeNull();
  });
});
