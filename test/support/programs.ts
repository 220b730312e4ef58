// Builds test programs straight from directives (no compiler needed): body bytes, unsigned files, sealed programs.
import { encodeBody, encodeUnsignedProgram, ProgramBody } from '../../src/bytecode/format';
import { Instruction, Opcode, Value, ValueTag } from '../../src/bytecode/instructions';
import { sealBody, TestSeal } from './signing';

export interface TestDirective {
  name: string;
  amount?: Value;
  params?: Record<string, Value>;
}

export const percent = (value: number): Value => ({ tag: ValueTag.Percent, value });
export const money = (value: number): Value => ({ tag: ValueTag.Money, value });
export const ms = (value: number): Value => ({ tag: ValueTag.Duration, value });
export const text = (value: string): Value => ({ tag: ValueTag.String, value });
export const list = (...names: string[]): Value => ({ tag: ValueTag.List, items: names.map((n) => ({ tag: ValueTag.Identifier, value: n })) });

/** A program that runs the directives in order (the Directive calling convention of instructions.ts), then halts. */
export function programBody(programId: string, directives: TestDirective[]): ProgramBody {
  const constants: Value[] = [];
  const constant = (v: Value): number => constants.push(v) - 1;
  const instructions: Instruction[] = [];
  for (const directive of directives) {
    instructions.push({ op: Opcode.PushConst, operands: [constant(directive.amount ?? { tag: ValueTag.Null })] });
    const params = Object.entries(directive.params ?? {});
    for (const [key, value] of params) {
      instructions.push({ op: Opcode.PushConst, operands: [constant({ tag: ValueTag.String, value: key })] });
      instructions.push({ op: Opcode.PushConst, operands: [constant(value)] });
    }
    instructions.push({ op: Opcode.Directive, operands: [constant({ tag: ValueTag.Identifier, value: directive.name }), params.length] });
  }
  instructions.push({ op: Opcode.Halt, operands: [] });
  return { programId, constants, instructions };
}

/** The body bytes of programBody, ready to seal. */
export function buildBody(programId: string, directives: TestDirective[]): Buffer {
  return encodeBody(programBody(programId, directives));
}

/** The compiler's kind of output: unsigned, refused by every agent (BC_UNSIGNED); `dryRun` marks a dry run's. */
export function buildUnsigned(programId: string, directives: TestDirective[], options: { dryRun?: boolean } = {}): Buffer {
  return encodeUnsignedProgram(programBody(programId, directives), options);
}

/** A program sealed for one agent and reload; its program id is the reload id, as the injector's forward install has. */
export function buildProgram(directives: TestDirective[], seal: TestSeal): Promise<Buffer> {
  return sealBody(buildBody(seal.reloadId, directives), seal);
}

/** The same program with one signature byte flipped: checksum intact, signature wrong. */
export function withBadSignature(program: Buffer): Buffer {
  const copy = Buffer.from(program);
  copy[copy.length - 1] ^= 0xff;
  return copy;
}

export const REDUCE_15: TestDirective = { name: 'REDUCE_COSTS', amount: percent(15), params: { BUDGET: money(500), METRICS: list('latency', 'memory') } };
