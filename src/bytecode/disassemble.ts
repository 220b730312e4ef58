// Readable listing of a bytecode v2 program: header and envelope, constant pool, and one line per instruction.
import { formatValue, typeName } from './arith';
import { Container, decodeUnverified, HEADER_BYTES, ProgramBody, SIGNATURE_BYTES } from './format';
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
export function disassembleBody(body: Pick<ProgramBody, 'constants' | 'instructions'>): string {
  const width = Math.max(4, String(body.instructions.length).length);
  const lines = [`constants (${body.constants.length}):`];
  body.constants.forEach((c, i) => lines.push(`  #${i}  ${describeConstant(c)}`));
  lines.push(`code (${body.instructions.length}):`);
  body.instructions.forEach((ins, i) => lines.push(`  ${instructionLine(i, ins, body.constants, width)}`));
  return lines.join('\n');
}

export interface DisassembleOptions {
  /**
   * What was verified about the signature, as the caller checked it (src/signing's disassembleChecked does); the
   * listing never claims more than this. Default: an unsigned file says so, a signed one says "not checked".
   */
  signatureStatus?: string;
}

function describeTarget(container: Container): string {
  const { target } = container.envelope;
  return target ? `${target.kind} ${target.name}` : 'none';
}

/** Full listing of a program file; throws BytecodeError when the framing, checksum or body is wrong. */
export function disassemble(bytes: Buffer, options: DisassembleOptions = {}): string {
  const program = decodeUnverified(bytes);
  const { container } = program;
  const { envelope } = container;
  const unsignedStatus = container.dryRun ? 'none: an unsigned dry run, no agent accepts it' : 'none: unsigned compiler output, no agent accepts it until the injector seals it';
  const status = options.signatureStatus ?? (container.unsigned ? unsignedStatus : 'not checked');
  const lines = [
    `; OpenClaw bytecode v${container.version}, ${bytes.length} bytes (header ${HEADER_BYTES}, body ${container.body.length}, signature ${SIGNATURE_BYTES})`,
    `; kind      ${container.kind}`,
    `; program   ${program.programId ?? '(none: clears the active program)'}`,
    `; sha256    ${envelope.bodySha256}`,
  ];
  if (!container.unsigned) {
    lines.push(
      `; envelope  target ${describeTarget(container)}, reload ${envelope.reloadId}, sequence ${envelope.sequence}, not after ${new Date(envelope.notAfterMs).toISOString()}`,
      `; key id    ${envelope.keyId}`,
    );
  }
  lines.push(`; signature ${status}`, disassembleBody(program));
  return lines.join('\n');
}
