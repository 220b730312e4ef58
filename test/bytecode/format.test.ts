// Bytecode v1 container: round trips, determinism, and refusal of tampered, truncated or foreign programs.
import fc from 'fast-check';
import { BytecodeError, decodeUnverified, encodeProgram, HEADER_BYTES, ProgramBody, readHeader, verifyProgram } from '../../src/bytecode/format';
import { Instruction, Opcode, OPERAND_LAYOUT, Value, ValueTag } from '../../src/bytecode/instructions';
import { TEST_KEY } from '../compiler/fixtures';

const finite = fc.double({ noNaN: true, noDefaultInfinity: true });
const scalar: fc.Arbitrary<Value> = fc.oneof(
  fc.tuple(fc.constantFrom(ValueTag.Number, ValueTag.Percent, ValueTag.Money, ValueTag.Duration), finite).map(([tag, value]) => ({ tag, value }) as Value),
  fc.tuple(fc.constantFrom(ValueTag.String, ValueTag.Identifier), fc.string({ maxLength: 20 })).map(([tag, value]) => ({ tag, value }) as Value),
  fc.boolean().map((value): Value => ({ tag: ValueTag.Boolean, value })),
  fc.constant<Value>({ tag: ValueTag.Null }),
);
const value: fc.Arbitrary<Value> = fc.oneof(scalar, fc.array(scalar, { maxLength: 5 }).map((items): Value => ({ tag: ValueTag.List, items })));

const body: fc.Arbitrary<ProgramBody> = fc
  .tuple(fc.string({ maxLength: 30 }), fc.array(value, { minLength: 1, maxLength: 10 }), fc.integer({ min: 0, max: 20 }))
  .chain(([programId, constants, count]) =>
    fc.array(
      fc.constantFrom(...(Object.values(Opcode).filter((v) => typeof v === 'number') as Opcode[])).chain((op) =>
        fc.tuple(...OPERAND_LAYOUT[op].map((_, i) => (i === 0 && op !== Opcode.Jump && op !== Opcode.JumpIfFalse ? fc.nat({ max: constants.length - 1 }) : fc.nat({ max: count })))).map(
          (operands): Instruction => ({ op, operands: op === Opcode.Directive ? [operands[0], Math.min(operands[1], 65535)] : operands }),
        ),
      ),
      { minLength: count, maxLength: count },
    ).map((instructions) => ({ programId, constants, instructions })),
  );

function expectCode(fn: () => unknown, code: string): void {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(BytecodeError);
    expect((err as BytecodeError).code).toBe(code);
    return;
  }
  throw new Error(`expected ${code}`);
}

describe('bytecode v1 format', () => {
  it('decode(encode(body)) is the body, and encoding is deterministic', () => {
    fc.assert(
      fc.property(body, (b) => {
        const bytes = encodeProgram(b, TEST_KEY);
        expect(encodeProgram(b, TEST_KEY).equals(bytes)).toBe(true);
        const decoded = verifyProgram(bytes, TEST_KEY);
        expect({ programId: decoded.programId, constants: decoded.constants, instructions: decoded.instructions }).toEqual(b);
        expect(readHeader(bytes).bodyLength).toBe(bytes.length - HEADER_BYTES);
      }),
      { numRuns: 200 },
    );
  });

  it('any changed body byte is caught by the checksum, any changed signature byte by the HMAC', () => {
    fc.assert(
      fc.property(body, fc.nat(), fc.integer({ min: 1, max: 255 }), (b, at, flip) => {
        const bytes = encodeProgram(b, TEST_KEY);
        const bodyTampered = Buffer.from(bytes);
        bodyTampered[HEADER_BYTES + (at % (bytes.length - HEADER_BYTES))] ^= flip;
        expectCode(() => verifyProgram(bodyTampered, TEST_KEY), 'BC_BAD_CHECKSUM');
        const signatureTampered = Buffer.from(bytes);
        signatureTampered[52 + (at % 32)] ^= flip;
        expectCode(() => verifyProgram(signatureTampered, TEST_KEY), 'BC_BAD_SIGNATURE');
      }),
      { numRuns: 100 },
    );
  });

  it('refuses truncated input, a foreign magic, and a program signed with another key', () => {
    const bytes = encodeProgram({ programId: 'p', constants: [], instructions: [{ op: Opcode.Halt, operands: [] }] }, TEST_KEY);
    expectCode(() => decodeUnverified(bytes.subarray(0, 10)), 'BC_TOO_SHORT');
    expectCode(() => decodeUnverified(bytes.subarray(0, bytes.length - 1)), 'BC_BAD_LENGTH');
    const foreign = Buffer.from(bytes);
    foreign.write('ELF!', 0, 'ascii');
    expectCode(() => decodeUnverified(foreign), 'BC_BAD_MAGIC');
    expectCode(() => verifyProgram(bytes, Buffer.alloc(32, 9)), 'BC_WRONG_KEY');
  });
});
