// Bytecode v1: the signed container the compiler writes and the agent VM reads (see docs/bytecode.md).
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { Instruction, Opcode, OPERAND_LAYOUT, Value, ValueTag } from './instructions';

export const MAGIC = Buffer.from('OCBC', 'ascii');
export const FORMAT_VERSION = 1;
export const HEADER_BYTES = 84;
export const MAX_PROGRAM_BYTES = 1024 * 1024;
export const MAX_CONSTANTS = 65_535;
export const MAX_INSTRUCTIONS = 100_000;
export const MAX_STRING_BYTES = 64 * 1024;
export const MAX_LIST_ITEMS = 1_024;
export const MAX_PROGRAM_ID_BYTES = 128;
export const MIN_SIGNING_KEY_BYTES = 16;

export type BytecodeErrorCode =
  | 'BC_TOO_SHORT'
  | 'BC_TOO_LARGE'
  | 'BC_BAD_MAGIC'
  | 'BC_BAD_VERSION'
  | 'BC_BAD_LENGTH'
  | 'BC_BAD_CHECKSUM'
  | 'BC_WRONG_KEY'
  | 'BC_BAD_SIGNATURE'
  | 'BC_MALFORMED'
  | 'BC_LIMIT';

export class BytecodeError extends Error {
  constructor(
    readonly code: BytecodeErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'BytecodeError';
  }
}

export interface ProgramBody {
  /** Who made this program: the injection id (or another caller-chosen id). */
  programId: string;
  constants: Value[];
  instructions: Instruction[];
}

export interface ProgramHeader {
  version: number;
  flags: number;
  bodyLength: number;
  keyId: string;
  sha256: string;
  signature: string;
}

export interface DecodedProgram extends ProgramBody {
  header: ProgramHeader;
}

/** First 8 bytes of SHA-256(key), hex: lets an agent say "signed with another key" without revealing it. */
export function keyIdOf(key: Buffer): Buffer {
  return createHash('sha256').update(key).digest().subarray(0, 8);
}

function assertKey(key: Buffer): void {
  if (key.length < MIN_SIGNING_KEY_BYTES) {
    throw new BytecodeError('BC_LIMIT', `signing key must be at least ${MIN_SIGNING_KEY_BYTES} bytes, got ${key.length}`);
  }
}

/** Serializes and signs a program. Same body and key always give the same bytes. */
export function encodeProgram(body: ProgramBody, key: Buffer): Buffer {
  assertKey(key);
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
  const bodyBytes = writer.toBuffer();
  if (HEADER_BYTES + bodyBytes.length > MAX_PROGRAM_BYTES) {
    throw new BytecodeError('BC_TOO_LARGE', `program is ${HEADER_BYTES + bodyBytes.length} bytes, over the ${MAX_PROGRAM_BYTES}-byte bound`);
  }

  const header = Buffer.alloc(HEADER_BYTES);
  MAGIC.copy(header, 0);
  header.writeUInt16BE(FORMAT_VERSION, 4);
  header.writeUInt16BE(0, 6);
  header.writeUInt32BE(bodyBytes.length, 8);
  keyIdOf(key).copy(header, 12);
  createHash('sha256').update(bodyBytes).digest().copy(header, 20);
  signatureOf(key, header, bodyBytes).copy(header, 52);
  return Buffer.concat([header, bodyBytes]);
}

function signatureOf(key: Buffer, header: Buffer, body: Buffer): Buffer {
  return createHmac('sha256', key).update(header.subarray(0, 52)).update(body).digest();
}

/** Reads the header only, checking framing and checksum but not the signature. */
export function readHeader(bytes: Buffer): ProgramHeader {
  if (bytes.length < HEADER_BYTES) {
    throw new BytecodeError('BC_TOO_SHORT', `program is ${bytes.length} bytes, shorter than the ${HEADER_BYTES}-byte header`);
  }
  if (bytes.length > MAX_PROGRAM_BYTES) {
    throw new BytecodeError('BC_TOO_LARGE', `program is ${bytes.length} bytes, over the ${MAX_PROGRAM_BYTES}-byte bound`);
  }
  if (!bytes.subarray(0, 4).equals(MAGIC)) {
    throw new BytecodeError('BC_BAD_MAGIC', 'not an OpenClaw program (magic is not "OCBC")');
  }
  const version = bytes.readUInt16BE(4);
  if (version !== FORMAT_VERSION) {
    throw new BytecodeError('BC_BAD_VERSION', `bytecode version ${version} is not supported (this reader knows ${FORMAT_VERSION})`);
  }
  const bodyLength = bytes.readUInt32BE(8);
  if (HEADER_BYTES + bodyLength !== bytes.length) {
    throw new BytecodeError(
      'BC_BAD_LENGTH',
      `header says the body is ${bodyLength} bytes but ${bytes.length - HEADER_BYTES} follow (truncated or padded file)`,
    );
  }
  const body = bytes.subarray(HEADER_BYTES);
  const sha256 = createHash('sha256').update(body).digest();
  if (!sha256.equals(bytes.subarray(20, 52))) {
    throw new BytecodeError('BC_BAD_CHECKSUM', 'body SHA-256 does not match the header (corrupted program)');
  }
  return {
    version,
    flags: bytes.readUInt16BE(6),
    bodyLength,
    keyId: bytes.subarray(12, 20).toString('hex'),
    sha256: sha256.toString('hex'),
    signature: bytes.subarray(52, 84).toString('hex'),
  };
}

/** Checks framing, checksum and signature, in that order, then decodes the body. */
export function verifyProgram(bytes: Buffer, key: Buffer): DecodedProgram {
  assertKey(key);
  const header = readHeader(bytes);
  if (header.keyId !== keyIdOf(key).toString('hex')) {
    throw new BytecodeError('BC_WRONG_KEY', `program was signed with key ${header.keyId}, this reader holds key ${keyIdOf(key).toString('hex')}`);
  }
  const expected = signatureOf(key, bytes.subarray(0, HEADER_BYTES), bytes.subarray(HEADER_BYTES));
  if (!timingSafeEqual(expected, bytes.subarray(52, 84))) {
    throw new BytecodeError('BC_BAD_SIGNATURE', 'HMAC-SHA256 signature does not match: the program was not signed by the injector');
  }
  return { header, ...decodeBody(bytes.subarray(HEADER_BYTES)) };
}

/** Decodes without checking the signature: for the disassembler and tests, never for execution. */
export function decodeUnverified(bytes: Buffer): DecodedProgram {
  const header = readHeader(bytes);
  return { header, ...decodeBody(bytes.subarray(HEADER_BYTES)) };
}

function decodeBody(body: Buffer): ProgramBody {
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

const MAX_VALUE_DEPTH = 8;

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
