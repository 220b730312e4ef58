// Golden table: valid programs and the exact bytecode listing they compile to.
import { disassembleBody } from '../../src/bytecode/disassemble';
import { decodeUnverified } from '../../src/bytecode/format';
import { MAX_WHEN_DEPTH } from '../../src/compiler';
import { compileTest, elseWhenChain, SEED_CONTEXT, SEED_PROGRAMS } from './fixtures';

interface GoldenCase {
  name: string;
  source: string;
  context?: Record<string, unknown>;
  optimize?: boolean;
  listing: string;
}

const CASES: GoldenCase[] = [
  {
    name: 'the seed: a directive with an amount',
    source: SEED_PROGRAMS.reduce,
    listing: `
constants (2):
  #0  percent 15%
  #1  identifier REDUCE_COSTS
code (3):
  0000  PUSH_CONST    #0            ; 15%
  0001  DIRECTIVE     #1 0          ; REDUCE_COSTS with 0 params
  0002  HALT`,
  },
  {
    name: 'the seed: a directive alone (amount is null)',
    source: SEED_PROGRAMS.optimize,
    listing: `
constants (2):
  #0  null null
  #1  identifier OPTIMIZE_THROUGHPUT
code (3):
  0000  PUSH_CONST    #0            ; null
  0001  DIRECTIVE     #1 0          ; OPTIMIZE_THROUGHPUT with 0 params
  0002  HALT`,
  },
  {
    name: 'the seed: a block; rollout keys stay out of the agent parameters',
    source: SEED_PROGRAMS.full,
    context: SEED_CONTEXT,
    listing: `
constants (6):
  #0  percent 15%
  #1  string "BUDGET"
  #2  money $500
  #3  string "METRICS"
  #4  list latency, memory, cpu
  #5  identifier REDUCE_COSTS
code (7):
  0000  PUSH_CONST    #0            ; 15%
  0001  PUSH_CONST    #1            ; "BUDGET"
  0002  PUSH_CONST    #2            ; $500
  0003  PUSH_CONST    #3            ; "METRICS"
  0004  PUSH_CONST    #4            ; latency, memory, cpu
  0005  DIRECTIVE     #5 2          ; REDUCE_COSTS with 2 params
  0006  HALT`,
  },
  {
    name: 'comments, blank lines and a one-line block with ; separators',
    source: '# cut costs first\n\nREDUCE_COSTS BY 5%   # a little\n\n\nSIMULATE_FAILURE { MESSAGE: "boom \\"quoted\\""; RETRIES: 0 }\n# done\n',
    listing: `
constants (6):
  #0  percent 5%
  #1  identifier REDUCE_COSTS
  #2  null null
  #3  string "MESSAGE"
  #4  string "boom \\"quoted\\""
  #5  identifier SIMULATE_FAILURE
code (7):
  0000  PUSH_CONST    #0            ; 5%
  0001  DIRECTIVE     #1 0          ; REDUCE_COSTS with 0 params
  0002  PUSH_CONST    #2            ; null
  0003  PUSH_CONST    #3            ; "MESSAGE"
  0004  PUSH_CONST    #4            ; "boom \\"quoted\\""
  0005  DIRECTIVE     #5 1          ; SIMULATE_FAILURE with 1 param
  0006  HALT`,
  },
  {
    name: 'a WHEN on the context is folded and its dead branch removed',
    source: 'WHEN ${deadline} > 1h { SIMULATE_WORK BY 1m + 30s } ELSE { SIMULATE_FAILURE }',
    context: SEED_CONTEXT,
    listing: `
constants (2):
  #0  duration 1m30s
  #1  identifier SIMULATE_WORK
code (3):
  0000  PUSH_CONST    #0            ; 1m30s
  0001  DIRECTIVE     #1 0          ; SIMULATE_WORK with 0 params
  0002  HALT`,
  },
  {
    name: 'unit arithmetic is folded: percent * number + percent, money - money',
    source: 'REDUCE_COSTS BY 10% * 2 + 5% {\n  BUDGET: $1,250.50 - $250.50\n}',
    listing: `
constants (4):
  #0  percent 25%
  #1  string "BUDGET"
  #2  money $1000
  #3  identifier REDUCE_COSTS
code (5):
  0000  PUSH_CONST    #0            ; 25%
  0001  PUSH_CONST    #1            ; "BUDGET"
  0002  PUSH_CONST    #2            ; $1000
  0003  DIRECTIVE     #3 1          ; REDUCE_COSTS with 1 param
  0004  HALT`,
  },
  {
    name: 'with optimize off the same program keeps its arithmetic for the VM',
    source: 'REDUCE_COSTS BY 10% * 2 + 5% {\n  BUDGET: $1,250.50 - $250.50\n}',
    optimize: false,
    listing: `
constants (7):
  #0  percent 10%
  #1  number 2
  #2  percent 5%
  #3  string "BUDGET"
  #4  money $1250.50
  #5  money $250.50
  #6  identifier REDUCE_COSTS
code (11):
  0000  PUSH_CONST    #0            ; 10%
  0001  PUSH_CONST    #1            ; 2
  0002  MUL
  0003  PUSH_CONST    #2            ; 5%
  0004  ADD
  0005  PUSH_CONST    #3            ; "BUDGET"
  0006  PUSH_CONST    #4            ; $1250.50
  0007  PUSH_CONST    #5            ; $250.50
  0008  SUB
  0009  DIRECTIVE     #6 1          ; REDUCE_COSTS with 1 param
  0010  HALT`,
  },
  {
    name: 'conditions on agent variables stay runtime branches (ELSE WHEN chains)',
    source: 'WHEN agent.cpu > 80% and agent.memory_mb >= 512 {\n  REDUCE_COSTS BY 20%\n} ELSE WHEN agent.group == "batch" {\n  SIMULATE_WORK BY 1h30m\n}',
    listing: `
constants (10):
  #0  string "cpu"
  #1  percent 80%
  #2  string "memory_mb"
  #3  number 512
  #4  percent 20%
  #5  identifier REDUCE_COSTS
  #6  string "group"
  #7  string "batch"
  #8  duration 1h30m
  #9  identifier SIMULATE_WORK
code (18):
  0000  LOAD_VAR      #0            ; agent.cpu
  0001  PUSH_CONST    #1            ; 80%
  0002  GT
  0003  LOAD_VAR      #2            ; agent.memory_mb
  0004  PUSH_CONST    #3            ; 512
  0005  GE
  0006  AND
  0007  JUMP_IF_FALSE -> 0011
  0008  PUSH_CONST    #4            ; 20%
  0009  DIRECTIVE     #5 0          ; REDUCE_COSTS with 0 params
  0010  JUMP          -> 0017
  0011  LOAD_VAR      #6            ; agent.group
  0012  PUSH_CONST    #7            ; "batch"
  0013  EQ
  0014  JUMP_IF_FALSE -> 0017
  0015  PUSH_CONST    #8            ; 1h30m
  0016  DIRECTIVE     #9 0          ; SIMULATE_WORK with 0 params
  0017  HALT`,
  },
  {
    name: 'a context reference is substituted, and a context number becomes money by multiplying by $1',
    source: 'REDUCE_COSTS { BUDGET: ${budget} * $1; METRICS: ${metrics} }',
    context: { budget: 750, metrics: ['cpu', 'p99_latency'] },
    listing: `
constants (6):
  #0  null null
  #1  string "BUDGET"
  #2  money $750
  #3  string "METRICS"
  #4  list cpu, p99_latency
  #5  identifier REDUCE_COSTS
code (7):
  0000  PUSH_CONST    #0            ; null
  0001  PUSH_CONST    #1            ; "BUDGET"
  0002  PUSH_CONST    #2            ; $750
  0003  PUSH_CONST    #3            ; "METRICS"
  0004  PUSH_CONST    #4            ; cpu, p99_latency
  0005  DIRECTIVE     #5 2          ; REDUCE_COSTS with 2 params
  0006  HALT`,
  },
  {
    name: 'a single identifier where a list is wanted is a list of one',
    source: 'OPTIMIZE_THROUGHPUT BY 10% { METRICS: latency }',
    listing: `
constants (4):
  #0  percent 10%
  #1  string "METRICS"
  #2  list latency
  #3  identifier OPTIMIZE_THROUGHPUT
code (5):
  0000  PUSH_CONST    #0            ; 10%
  0001  PUSH_CONST    #1            ; "METRICS"
  0002  PUSH_CONST    #2            ; latency
  0003  DIRECTIVE     #3 1          ; OPTIMIZE_THROUGHPUT with 1 param
  0004  HALT`,
  },
];

describe('valid programs compile to the expected bytecode', () => {
  it.each(CASES)('$name', ({ source, context, optimize, listing }) => {
    const result = compileTest(source, context, optimize ?? true);
    expect(result.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    expect(result.ok).toBe(true);
    expect(disassembleBody(decodeUnverified(result.bytecode as Buffer))).toBe(listing.trimStart());
  });
});

describe('long ELSE WHEN chains', () => {
  it('a chain of MAX_WHEN_DEPTH links compiles, every link kept for the agents to decide', () => {
    const result = compileTest(elseWhenChain('agent.cpu > 50%', MAX_WHEN_DEPTH));
    expect(result.diagnostics).toEqual([]);
    expect(result.ok).toBe(true);
    // One conditional jump per link: none was folded away or lost.
    expect(disassembleBody(decodeUnverified(result.bytecode as Buffer)).match(/JUMP_IF_FALSE/g)).toHaveLength(MAX_WHEN_DEPTH);
  });
});
