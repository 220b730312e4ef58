// Bounds, error codes and the body type shared by every part of the bytecode format (docs/bytecode.md).
import type { Instruction, Value } from './instructions';

/** A whole program file: header, envelope, body and signature. */
export const MAX_PROGRAM_BYTES = 1024 * 1024;
export const MAX_CONSTANTS = 65_535;
export const MAX_INSTRUCTIONS = 100_000;
export const MAX_STRING_BYTES = 64 * 1024;
export const MAX_LIST_ITEMS = 1_024;
export const MAX_VALUE_DEPTH = 8;
export const MAX_PROGRAM_ID_BYTES = 128;

/**
 * Why a program is refused. BC_* are about the bytes and the signature, ENVELOPE_* about what the signed envelope
 * binds the program to (docs/bytecode.md, "Reading a program"); an agent writes the code on its final trace line.
 */
export type BytecodeErrorCode =
  | 'BC_TOO_SHORT'
  | 'BC_TOO_LARGE'
  | 'BC_BAD_MAGIC'
  | 'BC_BAD_VERSION'
  | 'BC_BAD_LENGTH'
  | 'BC_BAD_CHECKSUM'
  | 'BC_UNSIGNED'
  | 'BC_UNKNOWN_KEY'
  | 'BC_BAD_SIGNATURE'
  | 'BC_MALFORMED'
  | 'BC_LIMIT'
  | 'ENVELOPE_WRONG_TARGET'
  | 'ENVELOPE_RELOAD_MISMATCH'
  | 'ENVELOPE_EXPIRED'
  | 'ENVELOPE_REPLAYED'
  | 'ENVELOPE_STALE_SEQUENCE';

export class BytecodeError extends Error {
  constructor(
    readonly code: BytecodeErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'BytecodeError';
  }
}

export interface ProgramBody {
  /** Who made this program: the injection id (or another caller-chosen id). */
  programId: string;
  constants: Value[];
  instructions: Instruction[];
}
