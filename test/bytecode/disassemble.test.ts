// The disassembler: a readable, stable listing of any valid program, header and envelope included, and a signature
// line that says exactly what was verified.
import { disassemble, disassembleBody, mnemonic } from '../../src/bytecode/disassemble';
import { encodeUnsignedProgram, sha256Hex } from '../../src/bytecode/format';
import { Opcode, ValueTag } from '../../src/bytecode/instructions';
import { compile } from '../../src/compiler';
import { disassembleChecked } from '../../src/signing/describe';
import { sealProgram } from '../../src/signing/seal';
import { createLocalSigner } from '../../src/signing/signer';
import { compileTest, TEST_KEY, TEST_TRUSTED_KEYS } from '../compiler/fixtures';
import { testSigningKey, trustedKeysOf } from '../support/signing';
import { withBadSignature } from '../support/programs';

const NOT_AFTER_MS = Date.UTC(2030, 0, 1);

async function sealed(unsigned: Buffer): Promise<Buffer> {
  const body = unsigned.subarray(16 + unsigned.readUInt32BE(8), unsigned.length - 64);
  return sealProgram(body, { reloadId: 'inj-1', target: { kind: 'agent', name: 'agent-7' }, notAfterMs: NOT_AFTER_MS, sequence: 42 }, createLocalSigner(TEST_KEY));
}

describe('disassemble', () => {
  it('prints the header, the constant pool and one line per instruction; compiler output says it is unsigned', () => {
    const bytes = compileTest('SIMULATE_WORK BY 30s').bytecode as Buffer;
    const bodyLength = bytes.readUInt32BE(12);
    expect(disassemble(bytes)).toBe(
      [
        `; OpenClaw bytecode v2, ${bytes.length} bytes (header 16, body ${bodyLength}, signature 64)`,
        '; kind      program',
        '; program   test-program',
        `; sha256    ${sha256Hex(bytes.subarray(bytes.length - 64 - bodyLength, bytes.length - 64))}`,
        '; signature none: unsigned compiler output, no agent accepts it until the injector seals it',
        'constants (2):',
        '  #0  duration 30s',
        '  #1  identifier SIMULATE_WORK',
        'code (3):',
        '  0000  PUSH_CONST    #0            ; 30s',
        '  0001  DIRECTIVE     #1 0          ; SIMULATE_WORK with 0 params',
        '  0002  HALT',
      ].join('\n'),
    );
  });

  it('says a dry run is one', () => {
    const dry = compile('OPTIMIZE_THROUGHPUT', {}, { programId: 'dry-run' }).bytecode as Buffer;
    expect(disassemble(dry)).toContain('; signature none: an unsigned dry run, no agent accepts it');
  });

  it('names the envelope of a sealed program and which trusted key verified it', async () => {
    const bytes = await sealed(compileTest('OPTIMIZE_THROUGHPUT').bytecode as Buffer);
    const listing = disassembleChecked(bytes, TEST_TRUSTED_KEYS);
    expect(listing).toContain('; envelope  target agent agent-7, reload inj-1, sequence 42, not after 2030-01-01T00:00:00.000Z');
    expect(listing).toContain(`; key id    ${TEST_KEY.keyId}`);
    expect(listing).toContain(`; signature Ed25519, verified against trusted key ${TEST_KEY.keyId}`);
  });

  it('says "not checked" without trusted keys, and NOT VERIFIED with the refusal code for a foreign key or a forged signature', async () => {
    const bytes = await sealed(compileTest('OPTIMIZE_THROUGHPUT').bytecode as Buffer);
    expect(disassembleChecked(bytes)).toContain('; signature not checked');
    expect(disassembleChecked(bytes, trustedKeysOf(testSigningKey('other')))).toMatch(/; signature NOT VERIFIED: BC_UNKNOWN_KEY: /);
    expect(disassembleChecked(withBadSignature(bytes), TEST_TRUSTED_KEYS)).toMatch(/; signature NOT VERIFIED: BC_BAD_SIGNATURE: /);
  });

  it('shows every opcode by a readable mnemonic, and jump targets as instruction numbers', () => {
    const names = Object.values(Opcode)
      .filter((v): v is Opcode => typeof v === 'number')
      .map(mnemonic);
    expect(names).toEqual(['PUSH_CONST', 'LOAD_VAR', 'POP', 'ADD', 'SUB', 'MUL', 'DIV', 'NEG', 'EQ', 'NE', 'LT', 'LE', 'GT', 'GE', 'AND', 'OR', 'NOT', 'JUMP', 'JUMP_IF_FALSE', 'DIRECTIVE', 'HALT']);
    const listing = disassembleBody({
      constants: [{ tag: ValueTag.String, value: 'cpu' }],
      instructions: [
        { op: Opcode.LoadVar, operands: [0] },
        { op: Opcode.JumpIfFalse, operands: [3] },
        { op: Opcode.Jump, operands: [3] },
      ],
    });
    expect(listing).toContain('0000  LOAD_VAR      #0            ; agent.cpu');
    expect(listing).toContain('0001  JUMP_IF_FALSE -> 0003');
  });

  it('lists a program built by hand, not only compiler output', () => {
    const bytes = encodeUnsignedProgram({ programId: 'hand', constants: [{ tag: ValueTag.Null }], instructions: [{ op: Opcode.Pop, operands: [] }] });
    expect(disassemble(bytes)).toContain('0000  POP');
  });
});
