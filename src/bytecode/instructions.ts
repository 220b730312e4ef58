// The instruction set and value model of bytecode (its body encoding is unchanged since v1), shared by the compiler, the disassembler and the agent VM.

/** Type tag of a constant or runtime value. Stable on the wire: never renumber. */
export enum ValueTag {
  Number = 1,
  /** Stored as the percent figure: 15% is 15. */
  Percent = 2,
  /** Stored in the currency's major unit (dollars): $1,250.50 is 1250.5. */
  Money = 3,
  /** Stored in milliseconds: 1h30m is 5400000. */
  Duration = 4,
  String = 5,
  Identifier = 6,
  Boolean = 7,
  List = 8,
  Null = 9,
}

export type ScalarValue =
  | { tag: ValueTag.Number | ValueTag.Percent | ValueTag.Money | ValueTag.Duration; value: number }
  | { tag: ValueTag.String | ValueTag.Identifier; value: string }
  | { tag: ValueTag.Boolean; value: boolean };

export type Value = ScalarValue | { tag: ValueTag.List; items: Value[] } | { tag: ValueTag.Null };

/** Opcodes. Stable on the wire: never renumber. Semantics in docs/bytecode.md. */
export enum Opcode {
  /** push constants[a] */
  PushConst = 0x01,
  /** push the agent's runtime variable named by constants[a] (a String) */
  LoadVar = 0x02,
  /** pop and discard */
  Pop = 0x03,
  Add = 0x10,
  Sub = 0x11,
  Mul = 0x12,
  Div = 0x13,
  Neg = 0x14,
  Eq = 0x20,
  Ne = 0x21,
  Lt = 0x22,
  Le = 0x23,
  Gt = 0x24,
  Ge = 0x25,
  And = 0x26,
  Or = 0x27,
  Not = 0x28,
  /** pc = a */
  Jump = 0x30,
  /** pop a Boolean; if false, pc = a */
  JumpIfFalse = 0x31,
  /**
   * Run the directive named by constants[a] (an Identifier) with b parameters.
   * Stack before, bottom to top: amount (the BY value or Null), then b pairs of key (String) and value.
   * Pops 1 + 2b values. This is one "step" of the program: the agent traces it.
   */
  Directive = 0x40,
  /** stop; the program completed */
  Halt = 0xff,
}

/** Operand widths in bytes, per opcode. */
export const OPERAND_LAYOUT: Readonly<Record<Opcode, readonly (2 | 4)[]>> = {
  [Opcode.PushConst]: [4],
  [Opcode.LoadVar]: [4],
  [Opcode.Pop]: [],
  [Opcode.Add]: [],
  [Opcode.Sub]: [],
  [Opcode.Mul]: [],
  [Opcode.Div]: [],
  [Opcode.Neg]: [],
  [Opcode.Eq]: [],
  [Opcode.Ne]: [],
  [Opcode.Lt]: [],
  [Opcode.Le]: [],
  [Opcode.Gt]: [],
  [Opcode.Ge]: [],
  [Opcode.And]: [],
  [Opcode.Or]: [],
  [Opcode.Not]: [],
  [Opcode.Jump]: [4],
  [Opcode.JumpIfFalse]: [4],
  [Opcode.Directive]: [4, 2],
  [Opcode.Halt]: [],
};

export interface Instruction {
  op: Opcode;
  operands: number[];
}
