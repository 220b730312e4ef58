// The DSL program as an OpenClaw skill bundle: SKILL.md rendered from the compiled bytecode, the bytecode beside it for
// provenance, and a manifest that marks the folder as ours. Pure and deterministic: same bytecode, same bytes.
import { createHash } from 'node:crypto';
import { RELOAD_ID_PATTERN } from '../agent/protocol';
import { BINARY_OPCODES, formatValue, OPERATOR_SYMBOL } from '../bytecode/arith';
import { BytecodeError, decodeUnverified, DecodedProgram } from '../bytecode/format';
import { Instruction, Opcode, Value, ValueTag } from '../bytecode/instructions';
import { DEFAULT_DIRECTIVES, DirectiveCatalogue } from '../compiler';

/** OpenClaw (and the Agent Skills format) wants 1-64 lowercase letters, digits or hyphens, equal to the folder name. */
export const SKILL_NAME_PATTERN = /^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$/;
/** One managed program slot per gateway, as the reference agent has one program.bc. */
export const DEFAULT_SKILL_NAME = 'dreamnet-program';
export const SKILL_FILE = 'SKILL.md';
export const BYTECODE_FILE = 'program.bc';
export const MANIFEST_FILE = 'dreamnet-bundle.json';
/** The marker that says this injector manages the skill; a folder without it is a user's and is never touched. */
export const MANAGED_BY = 'dreamnet-injector';
export const BUNDLE_FORMAT_VERSION = 1;
/** OpenClaw refuses a SKILL.md over 256,000 bytes (DEFAULT_MAX_SKILL_FILE_BYTES); we stay well under it. */
export const MAX_SKILL_MD_BYTES = 128 * 1024;
/** The Agent Skills format caps a description at 1,024 characters. */
export const MAX_DESCRIPTION_CHARS = 1024;
export const MAX_RENDERED_DIRECTIVES = 500;
export const MAX_RENDERED_VALUE_CHARS = 200;
export const MAX_CONDITION_DEPTH = 32;
export const MAX_MANIFEST_BYTES = 4 * 1024;
/** Hex digits of the bytecode's sha256 that name the revision in the description. */
export const REVISION_CHARS = 12;
/**
 * SIMULATE_FAILURE is how a test makes an agent fail. On OpenClaw its analogue is a skill the gateway will not load:
 * the skill requires this binary, which no container has, so skills.status reports it ineligible.
 */
export const SIMULATED_FAILURE_BIN = 'dreamnet-simulated-failure';

const SHA256_PATTERN = /^[0-9a-f]{64}$/;
const PLAIN_IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_.]{0,63}$/;

export type SkillBundleErrorCode = 'BUNDLE_BAD_BYTECODE' | 'BUNDLE_UNSUPPORTED_CODE' | 'BUNDLE_TOO_LARGE' | 'BUNDLE_BAD_NAME' | 'BUNDLE_BAD_MANIFEST';

export class SkillBundleError extends Error {
  constructor(
    readonly code: SkillBundleErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'SkillBundleError';
  }
}

export interface BundleManifest {
  managedBy: typeof MANAGED_BY;
  formatVersion: number;
  skillName: string;
  programId: string;
  /** The reload (injection) that wrote this revision: what compare-and-swap restores compare against. */
  reloadId: string;
  bytecodeSha256: string;
  skillSha256: string;
  /** sha256 over SKILL.md and program.bc (names, sizes and digests): the revision's identity. */
  bundleSha256: string;
}

export interface BundleFile {
  name: string;
  content: Buffer;
}

export interface SkillBundle {
  skillName: string;
  /** SKILL.md, program.bc and the manifest, in that order. */
  files: BundleFile[];
  manifest: BundleManifest;
  /** The front matter description: the gateway reports it back in skills.status. */
  description: string;
  /** Binaries the skill declares it needs (metadata.openclaw.requires.bins). */
  requiredBins: string[];
}

export interface RenderOptions {
  skillName?: string;
  reloadId: string;
  /** Descriptions of the directives; DEFAULT_DIRECTIVES when omitted. */
  catalogue?: DirectiveCatalogue;
}

/** One directive call or one condition, as the bytecode lays them out (structured: codegen emits nothing else). */
type Step =
  | { kind: 'directive'; name: string; amount: string | null; params: Array<[string, string]> }
  | { kind: 'when'; condition: string; then: Step[]; otherwise: Step[] };

interface Operand {
  text: string;
  /** Set when the operand is a constant: directive parameter keys must be String constants. */
  value?: Value;
  /** Binary expressions get parentheses when nested. */
  compound: boolean;
}

/** The DSL's own symbol for each binary opcode (the one the disassembler prints). */
const BINARY_SYMBOL: Partial<Record<Opcode, string>> = Object.fromEntries(BINARY_OPCODES.map((op) => [op, OPERATOR_SYMBOL[op]]));

/** A value the program carries, quoted so it can never become Markdown structure or YAML. */
function literal(text: string): string {
  const clipped = text.length > MAX_RENDERED_VALUE_CHARS ? `${text.slice(0, MAX_RENDERED_VALUE_CHARS)}…` : text;
  return JSON.stringify(clipped).replace(/`/g, '\\u0060').replace(/[<>]/g, (c) => (c === '<' ? '\\u003c' : '\\u003e'));
}

function renderValue(value: Value): string {
  if (value.tag === ValueTag.String) return literal(value.value);
  if (value.tag === ValueTag.Identifier) return PLAIN_IDENTIFIER.test(value.value) ? value.value : literal(value.value);
  if (value.tag === ValueTag.List) return value.items.map(renderValue).join(', ');
  return literal(formatValue(value)).slice(1, -1);
}

function bad(message: string): SkillBundleError {
  return new SkillBundleError('BUNDLE_UNSUPPORTED_CODE', `the bytecode is not laid out as the compiler writes it: ${message}`);
}

/** Reads the instruction stream back into directives and conditions, evaluating expressions symbolically. */
class Decompiler {
  private directives = 0;

  constructor(private readonly program: DecodedProgram) {}

  steps(): Step[] {
    const { instructions } = this.program;
    const last = instructions.length - 1;
    if (last < 0 || instructions[last].op !== Opcode.Halt) throw bad('the program does not end with HALT');
    return this.block(0, last, 0);
  }

  private constant(index: number): Value {
    const value = this.program.constants[index];
    if (value === undefined) throw bad(`constant #${index} does not exist`);
    return value;
  }

  private block(from: number, to: number, depth: number): Step[] {
    if (depth > MAX_CONDITION_DEPTH) throw new SkillBundleError('BUNDLE_TOO_LARGE', `conditions nest deeper than ${MAX_CONDITION_DEPTH} levels`);
    const { instructions } = this.program;
    const steps: Step[] = [];
    const stack: Operand[] = [];
    const pop = (): Operand => {
      const top = stack.pop();
      if (!top) throw bad('an instruction pops an empty stack');
      return top;
    };
    let pc = from;
    while (pc < to) {
      const ins: Instruction = instructions[pc];
      switch (ins.op) {
        case Opcode.PushConst: {
          const value = this.constant(ins.operands[0]);
          stack.push({ text: value.tag === ValueTag.Null ? '' : renderValue(value), value, compound: false });
          pc += 1;
          break;
        }
        case Opcode.LoadVar: {
          const name = this.constant(ins.operands[0]);
          if (name.tag !== ValueTag.String) throw bad('LOAD_VAR names no string');
          stack.push({ text: `agent.${renderValue({ tag: ValueTag.Identifier, value: name.value })}`, compound: false });
          pc += 1;
          break;
        }
        case Opcode.Pop:
          pop();
          pc += 1;
          break;
        case Opcode.Neg:
        case Opcode.Not: {
          const operand = pop();
          const inner = operand.compound ? `(${operand.text})` : operand.text;
          stack.push({ text: ins.op === Opcode.Neg ? `-${inner}` : `not ${inner}`, compound: false });
          pc += 1;
          break;
        }
        case Opcode.JumpIfFalse: {
          const condition = pop().text;
          const elseAt = ins.operands[0];
          if (elseAt <= pc || elseAt > to) throw bad(`JUMP_IF_FALSE at ${pc} leaves its block`);
          const beforeElse = instructions[elseAt - 1];
          const hasElse = elseAt - 1 > pc && beforeElse.op === Opcode.Jump && beforeElse.operands[0] >= elseAt;
          const end = hasElse ? beforeElse.operands[0] : elseAt;
          if (end > to) throw bad(`the ELSE branch at ${elseAt} leaves its block`);
          steps.push({
            kind: 'when',
            condition,
            then: this.block(pc + 1, hasElse ? elseAt - 1 : elseAt, depth + 1),
            otherwise: hasElse ? this.block(elseAt, end, depth + 1) : [],
          });
          pc = end;
          break;
        }
        case Opcode.Directive: {
          const name = this.constant(ins.operands[0]);
          if (name.tag !== ValueTag.Identifier) throw bad('DIRECTIVE names no identifier');
          const params: Array<[string, string]> = [];
          for (let i = 0; i < ins.operands[1]; i++) {
            const value = pop();
            const key = pop();
            if (key.value?.tag !== ValueTag.String) throw bad('a directive parameter key is not a string constant');
            params.unshift([key.value.value, value.text]);
          }
          const amount = pop();
          this.directives += 1;
          if (this.directives > MAX_RENDERED_DIRECTIVES) {
            throw new SkillBundleError('BUNDLE_TOO_LARGE', `the program calls more than ${MAX_RENDERED_DIRECTIVES} directives`);
          }
          steps.push({ kind: 'directive', name: name.value, amount: amount.value?.tag === ValueTag.Null ? null : amount.text, params });
          pc += 1;
          break;
        }
        default: {
          const symbol = BINARY_SYMBOL[ins.op];
          if (symbol === undefined) throw bad(`unexpected ${Opcode[ins.op] ?? ins.op} at ${pc}`);
          const right = pop();
          const left = pop();
          const side = (o: Operand): string => (o.compound ? `(${o.text})` : o.text);
          stack.push({ text: `${side(left)} ${symbol} ${side(right)}`, compound: true });
          pc += 1;
        }
      }
    }
    if (stack.length > 0) throw bad(`values left on the stack at ${to}`);
    return steps;
  }
}

function directiveNames(steps: Step[], into: string[] = []): string[] {
  for (const step of steps) {
    if (step.kind === 'directive') {
      if (!into.includes(step.name)) into.push(step.name);
    } else {
      directiveNames(step.then, into);
      directiveNames(step.otherwise, into);
    }
  }
  return into;
}

function renderSteps(steps: Step[], catalogue: DirectiveCatalogue, indent: string, lines: string[]): void {
  if (steps.length === 0) lines.push(`${indent}- Nothing to do.`);
  steps.forEach((step, i) => {
    if (step.kind === 'when') {
      lines.push(`${indent}${i + 1}. Only while \`${step.condition}\` holds:`);
      renderSteps(step.then, catalogue, `${indent}   `, lines);
      if (step.otherwise.length > 0) {
        lines.push(`${indent}   Otherwise:`);
        renderSteps(step.otherwise, catalogue, `${indent}   `, lines);
      }
      return;
    }
    const spec = Object.prototype.hasOwnProperty.call(catalogue, step.name) ? catalogue[step.name] : undefined;
    const amount = step.amount === null ? '' : ` by \`${step.amount}\``;
    const what = spec ? spec.description : 'a directive this catalogue does not describe; apply it as its name says';
    lines.push(`${indent}${i + 1}. **${step.name}**${amount}: ${what}.`);
    for (const [key, value] of step.params) {
      const paramSpec = spec && Object.prototype.hasOwnProperty.call(spec.params, key) ? spec.params[key] : undefined;
      lines.push(`${indent}   - \`${key}\` = \`${value}\`${paramSpec ? `: ${paramSpec.description}` : ''}`);
    }
  });
}

function sha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** The revision's identity: names, sizes and digests of SKILL.md and program.bc (the manifest is not part of it). */
export function bundleDigest(files: BundleFile[]): string {
  const hash = createHash('sha256');
  for (const file of files) hash.update(`${file.name}\0${file.content.length}\0${sha256(file.content)}\n`);
  return hash.digest('hex');
}

/** Compiles program bytecode into the skill bundle this injector installs on an OpenClaw gateway. */
export function renderSkillBundle(bytecode: Buffer, options: RenderOptions): SkillBundle {
  const skillName = options.skillName ?? DEFAULT_SKILL_NAME;
  if (!SKILL_NAME_PATTERN.test(skillName)) {
    throw new SkillBundleError('BUNDLE_BAD_NAME', `skill name ${JSON.stringify(skillName)} is not 1-64 lowercase letters, digits or hyphens`);
  }
  if (!RELOAD_ID_PATTERN.test(options.reloadId)) {
    throw new SkillBundleError('BUNDLE_BAD_NAME', `reload id ${JSON.stringify(options.reloadId)} does not match ${RELOAD_ID_PATTERN}`);
  }
  let program: DecodedProgram;
  try {
    program = decodeUnverified(bytecode);
  } catch (err) {
    if (!(err instanceof BytecodeError)) throw err;
    throw new SkillBundleError('BUNDLE_BAD_BYTECODE', `the program cannot be read: ${err.message}`, { cause: err });
  }
  if (program.programId === null) throw new SkillBundleError('BUNDLE_BAD_BYTECODE', 'the file is a clear, not a program: a clear removes the skill, it is not rendered');
  const programIdText: string = program.programId;
  const catalogue = options.catalogue ?? DEFAULT_DIRECTIVES;
  const steps = new Decompiler(program).steps();
  const names = directiveNames(steps);
  const requiredBins = names.includes('SIMULATE_FAILURE') ? [SIMULATED_FAILURE_BIN] : [];

  const programId = literal(programIdText);
  const summary = names.length > 0 ? names.join(', ') : 'no directives';
  // The revision (bytecode digest) is in the description, so the description the gateway reports names the revision it read.
  const revision = sha256(bytecode).slice(0, REVISION_CHARS);
  let description = `DreamNet program ${programId} rev ${revision} (${summary}): the operator's standing directives for this agent; follow them when you act.`;
  if (description.length > MAX_DESCRIPTION_CHARS) description = `${description.slice(0, MAX_DESCRIPTION_CHARS - 1)}…`;

  const front = [
    '---',
    `name: ${skillName}`,
    `description: ${JSON.stringify(description)}`,
    `metadata: ${JSON.stringify({ openclaw: { requires: { bins: requiredBins } } })}`,
    '---',
  ];
  const body: string[] = [
    '',
    `# DreamNet program ${programId}`,
    '',
    'The DreamNet injector wrote this skill from a compiled DSL program. It carries the operator\'s directives for',
    'this agent, in program order. Apply each one that holds; a condition on `agent.*` names the agent\'s own',
    'runtime figures (cpu, memory_mb, uptime, agent_id, group).',
    '',
    '## Directives',
    '',
  ];
  renderSteps(steps, catalogue, '', body);
  if (requiredBins.length > 0) {
    body.push('', `This program simulates a failed agent: it requires \`${SIMULATED_FAILURE_BIN}\`, so the gateway never loads it.`);
  }
  body.push(
    '',
    '## Provenance',
    '',
    `- Program id: \`${programId}\``,
    `- Bytecode: \`${BYTECODE_FILE}\` beside this file (bytecode v${program.container.version}, ${bytecode.length} bytes, sha256 \`${sha256(bytecode)}\`)`,
    program.container.unsigned
      ? '- Unsigned (as the compiler wrote it). OpenClaw does not check signatures; this records where the skill came from.'
      : `- Sealed with key id \`${program.container.envelope.keyId}\` for reload \`${program.container.envelope.reloadId}\`. OpenClaw does not check this signature; it records where the skill came from.`,
    `- Managed by the injector (\`${MANIFEST_FILE}\`): do not edit by hand, the next injection replaces it.`,
    '',
  );
  const skillMd = Buffer.from([...front, ...body].join('\n'), 'utf8');
  if (skillMd.length > MAX_SKILL_MD_BYTES) {
    throw new SkillBundleError('BUNDLE_TOO_LARGE', `SKILL.md would be ${skillMd.length} bytes, over the ${MAX_SKILL_MD_BYTES}-byte bound`);
  }
  const content: BundleFile[] = [
    { name: SKILL_FILE, content: skillMd },
    { name: BYTECODE_FILE, content: Buffer.from(bytecode) },
  ];
  const manifest: BundleManifest = {
    managedBy: MANAGED_BY,
    formatVersion: BUNDLE_FORMAT_VERSION,
    skillName,
    programId: programIdText,
    reloadId: options.reloadId,
    bytecodeSha256: sha256(bytecode),
    skillSha256: sha256(skillMd),
    bundleSha256: bundleDigest(content),
  };
  const manifestBytes = Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`, 'utf8');
  return { skillName, files: [...content, { name: MANIFEST_FILE, content: manifestBytes }], manifest, description, requiredBins };
}

/** Reads a manifest back; null when the bytes are not one of ours (a user's skill, or something else entirely). */
export function parseManifest(bytes: Buffer): BundleManifest | null {
  if (bytes.length > MAX_MANIFEST_BYTES) return null;
  let raw: unknown;
  try {
    raw = JSON.parse(bytes.toString('utf8'));
  } catch {
    return null;
  }
  if (typeof raw !== 'object' || raw === null) return null;
  const m = raw as Record<string, unknown>;
  const isSha = (v: unknown): v is string => typeof v === 'string' && SHA256_PATTERN.test(v);
  if (m.managedBy !== MANAGED_BY || m.formatVersion !== BUNDLE_FORMAT_VERSION) return null;
  if (typeof m.skillName !== 'string' || !SKILL_NAME_PATTERN.test(m.skillName)) return null;
  if (typeof m.programId !== 'string' || typeof m.reloadId !== 'string' || !RELOAD_ID_PATTERN.test(m.reloadId)) return null;
  if (!isSha(m.bytecodeSha256) || !isSha(m.skillSha256) || !isSha(m.bundleSha256)) return null;
  return {
    managedBy: MANAGED_BY,
    formatVersion: BUNDLE_FORMAT_VERSION,
    skillName: m.skillName,
    programId: m.programId,
    reloadId: m.reloadId,
    bytecodeSha256: m.bytecodeSha256,
    skillSha256: m.skillSha256,
    bundleSha256: m.bundleSha256,
  };
}
