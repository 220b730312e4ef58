// Readable listing of a bytecode v1 program: header, constant pool, and one line per instruction.
import { formatValue, typeName } from './arith';
import { decodeUnverified, HEADER_BYTES, ProgramBody, verifyProgram } from './format';
import { Instruction, Opcode, Value } from './instructions';

/** `JumpIfFalse` → `JUMP_IF_FALSE`. */
export function mnemonic(op: Opcode): string {
  const name = Opcode[op] as string | undefined;
  return name === undefined ? `OP_0x${op.toString(16)}` : name.replace(/([a-z])([A-Z])/g, '$1_$2').toUpperCase();
}

function describeConstant(value: Value | undefined): string {
  return value === undefined ? '?' : `${typeName(value.tag)} ${formatValue(value)}`;
}

function instructionLine(index: number, ins: Instruction, constants: Value[], width: number): string {
  const at = String(index).padStart(width, '0');
  const name = mnemonic(ins.op);
  let operands = '';
  let note = '';
  switch (ins.op) {
    case Opcode.PushConst:
      operands = `#${ins.operands[0]}`;
      note = formatValue(constants[ins.operands[0]]);
      break;
    case Opcode.LoadVar:
      operands = `#${ins.operands[0]}`;
      note = `agent.${(constants[ins.operands[0]] as { value?: unknown }).value}`;
      break;
    case Opcode.Jump:
    case Opcode.JumpIfFalse:
      operands = `-> ${String(ins.operands[0]).padStart(width, '0')}`;
      break;
    case Opcode.Directive:
      operands = `#${ins.operands[0]} ${ins.operands[1]}`;
      note = `${formatValue(constants[ins.operands[0]])} with ${ins.operands[1]} param${ins.operands[1] === 1 ? '' : 's'}`;
      break;
    default:
      break;
  }
  const text = `${at}  ${name.padEnd(14)}${operands}`;
  return note ? `${text.padEnd(width + 30)}; ${note}` : text.trimEnd();
}

/** The constant pool and the instructions; stable text used by the golden tests. */
export function disassembleBody(body: ProgramBody): string {
  const width = Math.max(4, String(body.instructions.length).length);
  const lines = [`constants (${body.constants.length}):`];
  body.constants.forEach((c, i) => lines.push(`  #${i}  ${describeConstant(c)}`));
  lines.push(`code (${body.instructions.length}):`);
  body.instructions.forEach((ins, i) => lines.push(`  ${instructionLine(i, ins, body.constants, width)}`));
  return lines.join('\n');
}

export interface DisassembleOptions {
  /** When given, the signature is checked and the listing says whether it holds. */
  key?: Buffer;
}

/** Full listing of a program file; throws BytecodeError when the framing or checksum is wrong. */
export function disassemble(bytes: Buffer, options: DisassembleOptions = {}): string {
  const program = options.key ? verifyProgram(bytes, options.key) : decodeUnverified(bytes);
  const { header } = program;
  const signature = options.key ? 'verified' : 'not checked';
  return [
    `; OpenClaw bytecode v${header.version}, ${bytes.length} bytes (header ${HEADER_BYTES}, body ${header.bodyLength})`,
    `; program   ${program.programId}`,
    `; key id    ${header.keyId}`,
    `; sha256    ${header.sha256}`,
    `; signature ${header.signature} (${signature})`,
    disassembleBody(program),
  ].join('\n');
}
