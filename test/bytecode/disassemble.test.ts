// The disassembler: a readable, stable listing of any valid program, header included.
import { disassemble, disassembleBody, mnemonic } from '../../src/bytecode/disassemble';
import { BytecodeError, encodeProgram } from '../../src/bytecode/format';
import { Opcode, ValueTag } from '../../src/bytecode/instructions';
import { compileTest, TEST_KEY } from '../compiler/fixtures';

describe('disassemble', () => {
  it('prints the header, the constant pool and one line per instruction', () => {
    const bytes = compileTest('SIMULATE_WORK BY 30s').bytecode as Buffer;
    expect(disassemble(bytes, { key: TEST_KEY })).toBe(
      [
        `; OpenClaw bytecode v1, ${bytes.length} bytes (header 84, body ${bytes.length - 84})`,
        '; program   test-program',
        `; key id    ${bytes.subarray(12, 20).toString('hex')}`,
        `; sha256    ${bytes.subarray(20, 52).toString('hex')}`,
        `; signature ${bytes.subarray(52, 84).toString('hex')} (verified)`,
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

  it('says the signature was not checked when no key is given, and refuses a program signed with another key', () => {
    const bytes = compileTest('OPTIMIZE_THROUGHPUT').bytecode as Buffer;
    expect(disassemble(bytes)).toContain('(not checked)');
    expect(() => disassemble(bytes, { key: Buffer.alloc(32, 1) })).toThrow(BytecodeError);
  });

  it('shows every opcode by a readable mnemonic, and jump targets as instruction numbers', () => {
    const names = Object.values(Opcode)
      .filter((v): v is Opcode => typeof v === 'number')
      .map(mnemonic);
    expect(names).toEqual(['PUSH_CONST', 'LOAD_VAR', 'POP', 'ADD', 'SUB', 'MUL', 'DIV', 'NEG', 'EQ', 'NE', 'LT', 'LE', 'GT', 'GE', 'AND', 'OR', 'NOT', 'JUMP', 'JUMP_IF_FALSE', 'DIRECTIVE', 'HALT']);
    const listing = disassembleBody({
      programId: 'p',
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
    const bytes = encodeProgram({ programId: 'hand', constants: [{ tag: ValueTag.Null }], instructions: [{ op: Opcode.Pop, operands: [] }] }, TEST_KEY);
    expect(disassemble(bytes)).toContain('0000  POP');
  });
});
