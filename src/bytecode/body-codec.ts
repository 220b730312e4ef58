// The program body's codec (docs/bytecode.md, "Body"): program id, constant pool and instructions, no framing.
import { Instruction, Opcode, OPERAND_LAYOUT, Value, ValueTag } from './instructions';
import { BytecodeError, MAX_CONSTANTS, MAX_INSTRUCTIONS, MAX_LIST_ITEMS, MAX_PROGRAM_ID_BYTES, MAX_STRING_BYTES, MAX_VALUE_DEPTH, ProgramBody } from './limits';

/** Serializes a body; the same body always gives the same bytes. Throws BC_LIMIT past a bound. */
export function encodeBody(body: ProgramBody): Buffer {
  const writer = new ByteWriter();
  writer.string(body.programId, MAX_PROGRAM_ID_BYTES);
  if (body.constants.length > MAX_CONSTANTS) {
    throw new BytecodeError('BC_LIMIT', `too many constants: ${body.constants.length} > ${MAX_CONSTANTS}`);
  }
  writer.u32(body.constants.length);
  for (const constant of body.constants) writer.value(constant);
  if (body.instructions.length > MAX_INSTRUCTIONS) {
    throw new BytecodeError('BC_LIMIT', `too many instructions: ${body.instructions.length} > ${MAX_INSTRUCTIONS}`);
  }
  writer.u32(body.instructions.length);
  for (const instruction of body.instructions) writer.instruction(instruction);
  return writer.toBuffer();
}

/** Decodes a body within the limits; every operand must point inside the program and no bytes may follow. */
export function decodeBody(body: Buffer): ProgramBody {
  const reader = new ByteReader(body);
  const programId = reader.string(MAX_PROGRAM_ID_BYTES);
  const constantCount = reader.u32();
  if (constantCount > MAX_CONSTANTS) throw new BytecodeError('BC_LIMIT', `too many constants: ${constantCount}`);
  const constants: Value[] = [];
  for (let i = 0; i < constantCount; i++) constants.push(reader.value(0));
  const instructionCount = reader.u32();
  if (instructionCount > MAX_INSTRUCTIONS) throw new BytecodeError('BC_LIMIT', `too many instructions: ${instructionCount}`);
  const instructions: Instruction[] = [];
  for (let i = 0; i < instructionCount; i++) instructions.push(reader.instruction(constants.length, instructionCount));
  if (!reader.atEnd()) throw new BytecodeError('BC_MALFORMED', `${reader.remaining()} unexpected bytes after the last instruction`);
  return { programId, constants, instructions };
}

class ByteWriter {
  private readonly chunks: Buffer[] = [];

  u8(n: number): void {
    const b = Buffer.alloc(1);
    b.writeUInt8(n);
    this.chunks.push(b);
  }
  u16(n: number): void {
    const b = Buffer.alloc(2);
    b.writeUInt16BE(n);
    this.chunks.push(b);
  }
  u32(n: number): void {
    const b = Buffer.alloc(4);
    b.writeUInt32BE(n);
    this.chunks.push(b);
  }
  f64(n: number): void {
    const b = Buffer.alloc(8);
    b.writeDoubleBE(n);
    this.chunks.push(b);
  }
  string(s: string, maxBytes = MAX_STRING_BYTES): void {
    const bytes = Buffer.from(s, 'utf8');
    if (bytes.length > maxBytes) throw new BytecodeError('BC_LIMIT', `string of ${bytes.length} bytes is over the ${maxBytes}-byte bound`);
    this.u32(bytes.length);
    this.chunks.push(bytes);
  }
  value(v: Value): void {
    this.u8(v.tag);
    switch (v.tag) {
      case ValueTag.Number:
      case ValueTag.Percent:
      case ValueTag.Money:
      case ValueTag.Duration:
        this.f64(v.value);
        return;
      case ValueTag.String:
      case ValueTag.Identifier:
        this.string(v.value);
        return;
      case ValueTag.Boolean:
        this.u8(v.value ? 1 : 0);
        return;
      case ValueTag.List:
        if (v.items.length > MAX_LIST_ITEMS) throw new BytecodeError('BC_LIMIT', `list of ${v.items.length} items is over ${MAX_LIST_ITEMS}`);
        this.u32(v.items.length);
        for (const item of v.items) this.value(item);
        return;
      case ValueTag.Null:
        return;
    }
  }
  instruction(ins: Instruction): void {
    this.u8(ins.op);
    const layout = OPERAND_LAYOUT[ins.op];
    if (ins.operands.length !== layout.length) {
      throw new BytecodeError('BC_MALFORMED', `${Opcode[ins.op]} takes ${layout.length} operands, got ${ins.operands.length}`);
    }
    layout.forEach((width, i) => (width === 2 ? this.u16(ins.operands[i]) : this.u32(ins.operands[i])));
  }
  toBuffer(): Buffer {
    return Buffer.concat(this.chunks);
  }
}

class ByteReader {
  private offset = 0;
  constructor(private readonly bytes: Buffer) {}

  private need(n: number): void {
    if (this.offset + n > this.bytes.length) {
      throw new BytecodeError('BC_MALFORMED', `unexpected end of body at byte ${this.offset} (needed ${n} more)`);
    }
  }
  u8(): number {
    this.need(1);
    return this.bytes.readUInt8(this.offset++);
  }
  u16(): number {
    this.need(2);
    const n = this.bytes.readUInt16BE(this.offset);
    this.offset += 2;
    return n;
  }
  u32(): number {
    this.need(4);
    const n = this.bytes.readUInt32BE(this.offset);
    this.offset += 4;
    return n;
  }
  f64(): number {
    this.need(8);
    const n = this.bytes.readDoubleBE(this.offset);
    this.offset += 8;
    if (!Number.isFinite(n)) throw new BytecodeError('BC_MALFORMED', `non-finite number at byte ${this.offset - 8}`);
    return n;
  }
  string(maxBytes = MAX_STRING_BYTES): string {
    const length = this.u32();
    if (length > maxBytes) throw new BytecodeError('BC_LIMIT', `string of ${length} bytes is over the ${maxBytes}-byte bound`);
    this.need(length);
    const s = this.bytes.toString('utf8', this.offset, this.offset + length);
    this.offset += length;
    return s;
  }
  value(depth: number): Value {
    if (depth > MAX_VALUE_DEPTH) throw new BytecodeError('BC_LIMIT', `values nested deeper than ${MAX_VALUE_DEPTH}`);
    const tag = this.u8();
    switch (tag) {
      case ValueTag.Number:
      case ValueTag.Percent:
      case ValueTag.Money:
      case ValueTag.Duration:
        return { tag, value: this.f64() };
      case ValueTag.String:
      case ValueTag.Identifier:
        return { tag, value: this.string() };
      case ValueTag.Boolean:
        return { tag, value: this.u8() !== 0 };
      case ValueTag.List: {
        const count = this.u32();
        if (count > MAX_LIST_ITEMS) throw new BytecodeError('BC_LIMIT', `list of ${count} items is over ${MAX_LIST_ITEMS}`);
        const items: Value[] = [];
        for (let i = 0; i < count; i++) items.push(this.value(depth + 1));
        return { tag, items };
      }
      case ValueTag.Null:
        return { tag };
      default:
        throw new BytecodeError('BC_MALFORMED', `unknown value tag 0x${tag.toString(16)} at byte ${this.offset - 1}`);
    }
  }
  instruction(constantCount: number, instructionCount: number): Instruction {
    const at = this.offset;
    const op = this.u8();
    const layout = OPERAND_LAYOUT[op as Opcode];
    if (!layout) throw new BytecodeError('BC_MALFORMED', `unknown opcode 0x${op.toString(16)} at byte ${at}`);
    const operands = layout.map((width) => (width === 2 ? this.u16() : this.u32()));
    checkOperands(op as Opcode, operands, constantCount, instructionCount, at);
    return { op: op as Opcode, operands };
  }
  atEnd(): boolean {
    return this.offset === this.bytes.length;
  }
  remaining(): number {
    return this.bytes.length - this.offset;
  }
}

function checkOperands(op: Opcode, operands: number[], constantCount: number, instructionCount: number, at: number): void {
  const fail = (what: string) => {
    throw new BytecodeError('BC_MALFORMED', `${Opcode[op]} at byte ${at}: ${what}`);
  };
  switch (op) {
    case Opcode.PushConst:
    case Opcode.LoadVar:
      if (operands[0] >= constantCount) fail(`constant #${operands[0]} does not exist (${constantCount} constants)`);
      return;
    case Opcode.Directive:
      if (operands[0] >= constantCount) fail(`constant #${operands[0]} does not exist (${constantCount} constants)`);
      return;
    case Opcode.Jump:
    case Opcode.JumpIfFalse:
      // A jump may land one past the end, which halts.
      if (operands[0] > instructionCount) fail(`jump target ${operands[0]} is past the end (${instructionCount} instructions)`);
      return;
    default:
      return;
  }
}
