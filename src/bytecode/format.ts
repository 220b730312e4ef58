// Bytecode v2: the container around a program body — header, envelope, body, Ed25519 signature (docs/bytecode.md).
// This module frames and parses; signing and verification live in src/signing/, which owns the keys.
import { createHash } from 'node:crypto';
import { decodeBody, encodeBody } from './body-codec';
import { BytecodeError, MAX_PROGRAM_BYTES, MAX_PROGRAM_ID_BYTES, ProgramBody } from './limits';
import type { Instruction, Value } from './instructions';

export * from './limits';
export { decodeBody, encodeBody } from './body-codec';

export const MAGIC = Buffer.from('OCBC', 'ascii');
export const FORMAT_VERSION = 2;
/** magic, version, kind, flags, envelope length, body length. */
export const HEADER_BYTES = 16;
/** An Ed25519 signature; all zero bytes in an unsigned file. */
export const SIGNATURE_BYTES = 64;
export const SHA256_BYTES = 32;
export const MAX_ENVELOPE_BYTES = 1024;
export const MAX_KEY_ID_BYTES = 64;
export const MAX_RELOAD_ID_BYTES = 161;
export const MAX_TARGET_BYTES = 63;
/** Prefixed to the signed bytes, so a signature over a program can never be taken for one over anything else. */
export const SIGNATURE_DOMAIN = Buffer.from('openclaw-program-v2\0', 'ascii');

export const FLAG_UNSIGNED = 0x01;
/** Only with FLAG_UNSIGNED: the output of a dry run, which nothing may seal. */
export const FLAG_DRY_RUN = 0x02;
const KNOWN_FLAGS = FLAG_UNSIGNED | FLAG_DRY_RUN;

/**
 * program: a body to run. clear: run nothing. restore (agent protocol v2): put back what the reload this one rolls
 * back replaced, from the agent's own record; the reload id is `<R>.rollback`, so the signature binds which R.
 */
export type ProgramKind = 'program' | 'clear' | 'restore';
const KIND_CODES: Record<ProgramKind, number> = { program: 1, clear: 2, restore: 3 };
/** Kinds that carry no body and name no program. */
export function isBodyless(kind: ProgramKind): boolean {
  return kind !== 'program';
}
export type TargetKind = 'agent' | 'group';
const TARGET_CODES: Record<TargetKind | 'none', number> = { none: 0, agent: 1, group: 2 };

export interface ProgramTarget {
  kind: TargetKind;
  /** An agent id or a group name (docs/agent-protocol.md's name pattern). */
  name: string;
}

/** What a signature binds a body to. In an unsigned file: empty key id and reload id, no target, zeros. */
export interface Envelope {
  keyId: string;
  /** The body's program id; null for a clear. */
  programId: string | null;
  reloadId: string;
  target: ProgramTarget | null;
  /** Milliseconds since the epoch after which no agent accepts it. */
  notAfterMs: number;
  /** Rises strictly per agent: an agent accepts only a sequence above the last one it accepted. */
  sequence: number;
  /** SHA-256 of the body, hex. */
  bodySha256: string;
}

export interface Container {
  version: number;
  kind: ProgramKind;
  unsigned: boolean;
  dryRun: boolean;
  envelope: Envelope;
  body: Buffer;
  signature: Buffer;
  /** What the signature covers, domain prefix included. */
  signedMessage: Buffer;
}

export interface DecodedProgram {
  container: Container;
  /** null for a clear. */
  programId: string | null;
  constants: Value[];
  instructions: Instruction[];
}

/** Framing for `encodeContainer`: the signature (or none, for an unsigned file) is added last. */
export interface ContainerParts {
  kind: ProgramKind;
  flags: number;
  envelope: Envelope;
  body: Buffer;
}

function assertU64(n: number, what: string): void {
  if (!Number.isSafeInteger(n) || n < 0) throw new BytecodeError('BC_LIMIT', `${what} must be a non-negative safe integer, got ${n}`);
}

function string8(value: string, maxBytes: number, what: string): Buffer {
  const bytes = Buffer.from(value, 'utf8');
  if (bytes.length > maxBytes) throw new BytecodeError('BC_LIMIT', `${what} of ${bytes.length} bytes is over the ${maxBytes}-byte bound`);
  return Buffer.concat([Buffer.from([bytes.length]), bytes]);
}

function encodeEnvelope(envelope: Envelope): Buffer {
  assertU64(envelope.notAfterMs, 'notAfterMs');
  assertU64(envelope.sequence, 'sequence');
  const numbers = Buffer.alloc(16);
  numbers.writeBigUInt64BE(BigInt(envelope.notAfterMs), 0);
  numbers.writeBigUInt64BE(BigInt(envelope.sequence), 8);
  const sha = Buffer.from(envelope.bodySha256, 'hex');
  if (sha.length !== SHA256_BYTES) throw new BytecodeError('BC_MALFORMED', 'bodySha256 must be 32 bytes of hex');
  return Buffer.concat([
    string8(envelope.keyId, MAX_KEY_ID_BYTES, 'key id'),
    string8(envelope.programId ?? '', MAX_PROGRAM_ID_BYTES, 'program id'),
    string8(envelope.reloadId, MAX_RELOAD_ID_BYTES, 'reload id'),
    Buffer.from([TARGET_CODES[envelope.target?.kind ?? 'none']]),
    string8(envelope.target?.name ?? '', MAX_TARGET_BYTES, 'target'),
    numbers,
    sha,
  ]);
}

/** The bytes a signature covers for these parts: the domain prefix, then everything before the signature. */
export function signedMessageOf(parts: ContainerParts): Buffer {
  return Buffer.concat([SIGNATURE_DOMAIN, framedWithoutSignature(parts)]);
}

function framedWithoutSignature(parts: ContainerParts): Buffer {
  if ((parts.flags & ~KNOWN_FLAGS) !== 0) throw new BytecodeError('BC_MALFORMED', `unknown flags 0x${parts.flags.toString(16)}`);
  if (isBodyless(parts.kind) && parts.body.length > 0) throw new BytecodeError('BC_MALFORMED', `a ${parts.kind} carries no body`);
  const envelope = encodeEnvelope(parts.envelope);
  const header = Buffer.alloc(HEADER_BYTES);
  MAGIC.copy(header, 0);
  header.writeUInt16BE(FORMAT_VERSION, 4);
  header.writeUInt8(KIND_CODES[parts.kind], 6);
  header.writeUInt8(parts.flags, 7);
  header.writeUInt32BE(envelope.length, 8);
  header.writeUInt32BE(parts.body.length, 12);
  const total = HEADER_BYTES + envelope.length + parts.body.length + SIGNATURE_BYTES;
  if (total > MAX_PROGRAM_BYTES) throw new BytecodeError('BC_TOO_LARGE', `program is ${total} bytes, over the ${MAX_PROGRAM_BYTES}-byte bound`);
  return Buffer.concat([header, envelope, parts.body]);
}

/** The whole file; `signature` is the signer's output over signedMessageOf(parts), or absent for an unsigned file. */
export function encodeContainer(parts: ContainerParts, signature?: Buffer): Buffer {
  const sig = signature ?? Buffer.alloc(SIGNATURE_BYTES);
  if (sig.length !== SIGNATURE_BYTES) throw new BytecodeError('BC_MALFORMED', `a signature is ${SIGNATURE_BYTES} bytes, got ${sig.length}`);
  return Buffer.concat([framedWithoutSignature(parts), sig]);
}

export function sha256Hex(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/**
 * The compiler's output: an unsigned file that no agent accepts (BC_UNSIGNED). The injector takes its body and seals
 * it for each agent (src/signing); a dry run's output carries FLAG_DRY_RUN, and nothing seals it.
 */
export function encodeUnsignedProgram(body: ProgramBody, options: { dryRun?: boolean } = {}): Buffer {
  const bodyBytes = encodeBody(body);
  return encodeContainer({
    kind: 'program',
    flags: FLAG_UNSIGNED | (options.dryRun ? FLAG_DRY_RUN : 0),
    envelope: { keyId: '', programId: body.programId, reloadId: '', target: null, notAfterMs: 0, sequence: 0, bodySha256: sha256Hex(bodyBytes) },
    body: bodyBytes,
  });
}

class EnvelopeReader {
  private offset = 0;
  constructor(private readonly bytes: Buffer) {}

  private need(n: number): void {
    if (this.offset + n > this.bytes.length) throw new BytecodeError('BC_MALFORMED', `envelope ends early at byte ${this.offset}`);
  }
  u8(): number {
    this.need(1);
    return this.bytes.readUInt8(this.offset++);
  }
  string8(maxBytes: number, what: string): string {
    const length = this.u8();
    if (length > maxBytes) throw new BytecodeError('BC_LIMIT', `${what} of ${length} bytes is over the ${maxBytes}-byte bound`);
    this.need(length);
    const text = this.bytes.toString('utf8', this.offset, this.offset + length);
    this.offset += length;
    return text;
  }
  u64(what: string): number {
    this.need(8);
    const n = this.bytes.readBigUInt64BE(this.offset);
    this.offset += 8;
    if (n > BigInt(Number.MAX_SAFE_INTEGER)) throw new BytecodeError('BC_MALFORMED', `${what} ${n} is over the largest safe integer`);
    return Number(n);
  }
  raw(n: number): Buffer {
    this.need(n);
    const out = this.bytes.subarray(this.offset, this.offset + n);
    this.offset += n;
    return out;
  }
  atEnd(): boolean {
    return this.offset === this.bytes.length;
  }
}

function decodeEnvelope(bytes: Buffer, kind: ProgramKind): Envelope {
  const reader = new EnvelopeReader(bytes);
  const keyId = reader.string8(MAX_KEY_ID_BYTES, 'key id');
  const programId = reader.string8(MAX_PROGRAM_ID_BYTES, 'program id');
  const reloadId = reader.string8(MAX_RELOAD_ID_BYTES, 'reload id');
  const targetCode = reader.u8();
  const targetName = reader.string8(MAX_TARGET_BYTES, 'target');
  const notAfterMs = reader.u64('notAfterMs');
  const sequence = reader.u64('sequence');
  const bodySha256 = reader.raw(SHA256_BYTES).toString('hex');
  if (!reader.atEnd()) throw new BytecodeError('BC_MALFORMED', 'unexpected bytes after the envelope');
  const targetKind = (Object.keys(TARGET_CODES) as (TargetKind | 'none')[]).find((k) => TARGET_CODES[k] === targetCode);
  if (targetKind === undefined) throw new BytecodeError('BC_MALFORMED', `unknown target kind ${targetCode}`);
  if (isBodyless(kind) && programId !== '') throw new BytecodeError('BC_MALFORMED', `a ${kind} names no program`);
  return {
    keyId,
    programId: isBodyless(kind) ? null : programId,
    reloadId,
    target: targetKind === 'none' ? null : { kind: targetKind, name: targetName },
    notAfterMs,
    sequence,
    bodySha256,
  };
}

/**
 * Checks the framing and the body's checksum and splits the file into its parts; checks no signature.
 * Codes: BC_TOO_SHORT, BC_TOO_LARGE, BC_BAD_MAGIC, BC_BAD_VERSION, BC_BAD_LENGTH, BC_MALFORMED, BC_LIMIT, BC_BAD_CHECKSUM.
 */
export function readContainer(bytes: Buffer): Container {
  if (bytes.length > MAX_PROGRAM_BYTES) {
    throw new BytecodeError('BC_TOO_LARGE', `program is ${bytes.length} bytes, over the ${MAX_PROGRAM_BYTES}-byte bound`);
  }
  if (bytes.length < 6) throw new BytecodeError('BC_TOO_SHORT', `program is ${bytes.length} bytes, shorter than any header`);
  if (!bytes.subarray(0, 4).equals(MAGIC)) throw new BytecodeError('BC_BAD_MAGIC', 'not an OpenClaw program (magic is not "OCBC")');
  const version = bytes.readUInt16BE(4);
  if (version !== FORMAT_VERSION) {
    throw new BytecodeError('BC_BAD_VERSION', `bytecode version ${version} is not supported (this reader knows ${FORMAT_VERSION})`);
  }
  if (bytes.length < HEADER_BYTES + SIGNATURE_BYTES) {
    throw new BytecodeError('BC_TOO_SHORT', `program is ${bytes.length} bytes, shorter than header and signature (${HEADER_BYTES + SIGNATURE_BYTES})`);
  }
  const kindCode = bytes.readUInt8(6);
  const kind = (Object.keys(KIND_CODES) as ProgramKind[]).find((k) => KIND_CODES[k] === kindCode);
  if (kind === undefined) throw new BytecodeError('BC_MALFORMED', `unknown program kind ${kindCode}`);
  const flags = bytes.readUInt8(7);
  if ((flags & ~KNOWN_FLAGS) !== 0) throw new BytecodeError('BC_MALFORMED', `unknown flags 0x${flags.toString(16)}`);
  const envelopeLength = bytes.readUInt32BE(8);
  const bodyLength = bytes.readUInt32BE(12);
  if (envelopeLength > MAX_ENVELOPE_BYTES) throw new BytecodeError('BC_LIMIT', `envelope of ${envelopeLength} bytes is over ${MAX_ENVELOPE_BYTES}`);
  const expected = HEADER_BYTES + envelopeLength + bodyLength + SIGNATURE_BYTES;
  if (expected !== bytes.length) {
    throw new BytecodeError('BC_BAD_LENGTH', `header says the file is ${expected} bytes but it is ${bytes.length} (truncated or padded file)`);
  }
  const bodyStart = HEADER_BYTES + envelopeLength;
  const envelope = decodeEnvelope(bytes.subarray(HEADER_BYTES, bodyStart), kind);
  const body = bytes.subarray(bodyStart, bodyStart + bodyLength);
  if (isBodyless(kind) && body.length > 0) throw new BytecodeError('BC_MALFORMED', `a ${kind} carries no body`);
  if (sha256Hex(body) !== envelope.bodySha256) throw new BytecodeError('BC_BAD_CHECKSUM', 'body SHA-256 does not match the envelope (corrupted program)');
  const unsigned = (flags & FLAG_UNSIGNED) !== 0;
  return {
    version,
    kind,
    unsigned,
    dryRun: (flags & FLAG_DRY_RUN) !== 0,
    envelope,
    body,
    signature: bytes.subarray(bytes.length - SIGNATURE_BYTES),
    signedMessage: Buffer.concat([SIGNATURE_DOMAIN, bytes.subarray(0, bytes.length - SIGNATURE_BYTES)]),
  };
}

/** A container's body decoded; its program id must be the envelope's. A clear decodes to no instructions. */
export function decodeContainer(container: Container): DecodedProgram {
  if (isBodyless(container.kind)) return { container, programId: null, constants: [], instructions: [] };
  const body = decodeBody(container.body);
  if (body.programId !== container.envelope.programId) {
    throw new BytecodeError('BC_MALFORMED', `the envelope names program ${JSON.stringify(container.envelope.programId)}, the body ${JSON.stringify(body.programId)}`);
  }
  return { container, ...body };
}

/** Framing, checksum and body, without any signature check: for the disassembler and tests, never for execution. */
export function decodeUnverified(bytes: Buffer): DecodedProgram {
  return decodeContainer(readContainer(bytes));
}
