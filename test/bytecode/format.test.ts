// Bytecode v2 container: round trips, determinism, and refusal of tampered, truncated, foreign or v1 programs.
import fc from 'fast-check';
import { BytecodeError, decodeUnverified, encodeUnsignedProgram, HEADER_BYTES, ProgramBody, readContainer, SIGNATURE_BYTES } from '../../src/bytecode/format';
import { Instruction, Opcode, OPERAND_LAYOUT, Value, ValueTag } from '../../src/bytecode/instructions';
import { sealProgram } from '../../src/signing/seal';
import { createLocalSigner } from '../../src/signing/signer';
import { verifyForAgent } from '../../src/signing/verify';
import { TEST_KEY, TEST_TRUSTED_KEYS } from '../compiler/fixtures';

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

const ENVELOPE = { reloadId: 'r-1', target: { kind: 'agent' as const, name: 'agent-1' }, notAfterMs: Date.UTC(2030, 0, 1), sequence: 10 };
const EXPECT = { trustedKeys: TEST_TRUSTED_KEYS, agentId: 'agent-1', group: null, reloadId: 'r-1', nowMs: Date.UTC(2029, 0, 1), lastSequence: 9 };

function sealBody(b: ProgramBody): Promise<Buffer> {
  const unsigned = readContainer(encodeUnsignedProgram(b));
  return sealProgram(unsigned.body, ENVELOPE, createLocalSigner(TEST_KEY));
}

function codeOf(fn: () => unknown): string | null {
  try {
    fn();
    return null;
  } catch (err) {
    return err instanceof BytecodeError ? err.code : `not a BytecodeError: ${String(err)}`;
  }
}

describe('bytecode v2 format', () => {
  it('decode(encode(body)) is the body, and encoding is deterministic', () => {
    fc.assert(
      fc.property(body, (b) => {
        const bytes = encodeUnsignedProgram(b);
        expect(encodeUnsignedProgram(b).equals(bytes)).toBe(true);
        const decoded = decodeUnverified(bytes);
        expect({ programId: decoded.programId, constants: decoded.constants, instructions: decoded.instructions }).toEqual(b);
        expect(decoded.container.unsigned).toBe(true);
        expect(HEADER_BYTES + bytes.readUInt32BE(8) + decoded.container.body.length + SIGNATURE_BYTES).toBe(bytes.length);
      }),
      { numRuns: 200 },
    );
  });

  it('a sealed program verifies; any changed body byte is caught by the checksum, any changed signature byte by Ed25519', async () => {
    await fc.assert(
      fc.asyncProperty(body, fc.nat(), fc.integer({ min: 1, max: 255 }), async (b, at, flip) => {
        const bytes = await sealBody(b);
        expect(verifyForAgent(bytes, EXPECT).programId).toBe(b.programId);
        const { body: sealedBody } = readContainer(bytes);
        const bodyStart = bytes.length - SIGNATURE_BYTES - sealedBody.length;
        if (sealedBody.length > 0) {
          const bodyTampered = Buffer.from(bytes);
          bodyTampered[bodyStart + (at % sealedBody.length)] ^= flip;
          expect(codeOf(() => verifyForAgent(bodyTampered, EXPECT))).toBe('BC_BAD_CHECKSUM');
        }
        const signatureTampered = Buffer.from(bytes);
        signatureTampered[bytes.length - SIGNATURE_BYTES + (at % SIGNATURE_BYTES)] ^= flip;
        expect(codeOf(() => verifyForAgent(signatureTampered, EXPECT))).toBe('BC_BAD_SIGNATURE');
      }),
      { numRuns: 50 },
    );
  });

  it('no single changed byte anywhere in a sealed program gets it accepted', async () => {
    const bytes = await sealBody({ programId: 'p', constants: [{ tag: ValueTag.Percent, value: 15 }], instructions: [{ op: Opcode.Halt, operands: [] }] });
    const accepted: number[] = [];
    for (let at = 0; at < bytes.length; at++) {
      const changed = Buffer.from(bytes);
      changed[at] ^= 0x01;
      if (codeOf(() => verifyForAgent(changed, EXPECT)) === null) accepted.push(at);
    }
    expect(accepted).toEqual([]);
  });

  it('refuses truncated input, a foreign magic, a v1 program (BC_BAD_VERSION) and unsigned output (BC_UNSIGNED)', () => {
    const bytes = encodeUnsignedProgram({ programId: 'p', constants: [], instructions: [{ op: Opcode.Halt, operands: [] }] });
    expectCode(() => decodeUnverified(bytes.subarray(0, 10)), 'BC_TOO_SHORT');
    expectCode(() => decodeUnverified(bytes.subarray(0, bytes.length - 1)), 'BC_BAD_LENGTH');
    const foreign = Buffer.from(bytes);
    foreign.write('ELF!', 0, 'ascii');
    expectCode(() => decodeUnverified(foreign), 'BC_BAD_MAGIC');
    // A v1 file: the same magic, version 1, an 84-byte HMAC header.
    const v1 = Buffer.alloc(84 + 13);
    v1.write('OCBC', 0, 'ascii');
    v1.writeUInt16BE(1, 4);
    expectCode(() => decodeUnverified(v1), 'BC_BAD_VERSION');
    expectCode(() => verifyForAgent(bytes, EXPECT), 'BC_UNSIGNED');
  });
});
