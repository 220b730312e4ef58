// Golden table: invalid programs and the diagnostics they must produce (code, line, column), all in one pass.
import { compileTest, elseWhenChain } from './fixtures';

type Expected = [code: string, line: number, column: number];

interface InvalidCase {
  name: string;
  source: string;
  context?: Record<string, unknown>;
  diagnostics: Expected[];
  /** Words the first message must contain (the fix it names). */
  mentions?: string[];
}

/** The column where the n-th WHEN of elseWhenChain('true', …) starts. */
function linkColumn(n: number): number {
  return 1 + (n - 1) * 'WHEN true {} ELSE '.length;
}

const CASES: InvalidCase[] = [
  { name: 'an empty program', source: '# nothing here\n\n', diagnostics: [['EMPTY_PROGRAM', 1, 1]] },
  {
    name: 'a missing amount after BY says what was expected',
    source: 'REDUCE_COSTS BY\n',
    diagnostics: [['SYNTAX_ERROR', 1, 16]],
    mentions: ['a value', 'found the end of the line'],
  },
  { name: 'a key without a colon', source: 'REDUCE_COSTS BY 15% {\n  BUDGET $5\n}', diagnostics: [['SYNTAX_ERROR', 2, 10]], mentions: ["':'"] },
  { name: 'an unclosed block', source: 'REDUCE_COSTS BY 15% {\n  BUDGET: $5\n', diagnostics: [['SYNTAX_ERROR', 3, 1]], mentions: ["'}'"] },
  { name: 'a stray character', source: 'REDUCE_COSTS BY 15% !', diagnostics: [['SYNTAX_ERROR', 1, 21]] },
  { name: 'a malformed duration', source: 'SIMULATE_WORK BY 1.5h', diagnostics: [['SYNTAX_ERROR', 1, 18]] },
  { name: 'an unknown directive with a near miss', source: 'REDUCE_COST BY 15%', diagnostics: [['UNKNOWN_DIRECTIVE', 1, 1]], mentions: ['Did you mean REDUCE_COSTS?'] },
  { name: 'an unknown directive in lower case', source: 'reduce_costs BY 15%', diagnostics: [['UNKNOWN_DIRECTIVE', 1, 1]], mentions: ['Did you mean REDUCE_COSTS?'] },
  { name: 'an unknown directive far from any', source: 'DELETE_EVERYTHING', diagnostics: [['UNKNOWN_DIRECTIVE', 1, 1]], mentions: ['Known directives'] },
  {
    name: 'an unknown key with a near miss, among rollout keys too',
    source: 'REDUCE_COSTS BY 15% {\n  BUDGTE: $5\n  DEADLNE: 2h\n}',
    diagnostics: [
      ['UNKNOWN_KEY', 2, 3],
      ['UNKNOWN_KEY', 3, 3],
    ],
    mentions: ['Did you mean BUDGET?'],
  },
  { name: 'a duplicate key', source: 'REDUCE_COSTS {\n  BUDGET: $5\n  BUDGET: $6\n}', diagnostics: [['DUPLICATE_KEY', 3, 3]], mentions: ['line 2'] },
  { name: 'a bare number where money is wanted', source: 'REDUCE_COSTS { BUDGET: 500 }', diagnostics: [['TYPE_MISMATCH', 1, 24]], mentions: ['$500'] },
  { name: 'a duration where a percent is wanted', source: 'REDUCE_COSTS BY 2h', diagnostics: [['TYPE_MISMATCH', 1, 17]] },
  { name: 'money plus a duration', source: 'REDUCE_COSTS { BUDGET: $5 + 1h }', diagnostics: [['TYPE_MISMATCH', 1, 24]], mentions: ['same unit'] },
  { name: 'an unquoted message', source: 'SIMULATE_FAILURE { MESSAGE: boom }', diagnostics: [['TYPE_MISMATCH', 1, 29]], mentions: ['double quotes'] },
  { name: 'a WHEN condition that is not a boolean', source: 'WHEN agent.cpu { OPTIMIZE_THROUGHPUT }', diagnostics: [['TYPE_MISMATCH', 1, 6]] },
  { name: 'a percent over 100', source: 'REDUCE_COSTS BY 150%', diagnostics: [['PERCENT_OUT_OF_RANGE', 1, 17]] },
  { name: 'a percent folded below 0', source: 'REDUCE_COSTS BY 5% - 10%', diagnostics: [['PERCENT_OUT_OF_RANGE', 1, 17]] },
  { name: 'a zero duration', source: 'SIMULATE_WORK BY 0s', diagnostics: [['DURATION_NOT_POSITIVE', 1, 18]] },
  { name: 'a negative duration', source: 'SIMULATE_WORK BY 1m - 2m', diagnostics: [['DURATION_NOT_POSITIVE', 1, 18]] },
  { name: 'a deadline over seven days', source: 'OPTIMIZE_THROUGHPUT { DEADLINE: 8d }', diagnostics: [['DEADLINE_TOO_LONG', 1, 33]], mentions: ['7d'] },
  { name: 'an undefined context reference', source: 'SIMULATE_WORK BY ${dealine}', context: { deadline: '2h' }, diagnostics: [['UNDEFINED_CONTEXT', 1, 18]], mentions: ['Did you mean deadline?'] },
  { name: 'a context value of the wrong type after substitution', source: 'SIMULATE_WORK BY ${budget}', context: { budget: 500 }, diagnostics: [['TYPE_MISMATCH', 1, 18]] },
  { name: 'a context object has no DSL form', source: 'SIMULATE_WORK BY ${cfg}', context: { cfg: { a: 1 } }, diagnostics: [['CONTEXT_TYPE', 1, 18]] },
  {
    name: 'a list over the limit',
    source: `REDUCE_COSTS { METRICS: ${Array.from({ length: 257 }, (_, i) => `m${i}`).join(', ')} }`,
    diagnostics: [['LIST_TOO_LONG', 1, 25]],
  },
  { name: 'a program over the size limit', source: `# ${'x'.repeat(256 * 1024)}\nOPTIMIZE_THROUGHPUT`, diagnostics: [['PROGRAM_TOO_LARGE', 1, 1]] },
  { name: 'brackets nested too deep', source: `REDUCE_COSTS BY ${'('.repeat(40)}1%${')'.repeat(40)}`, diagnostics: [['NESTING_TOO_DEEP', 1, 49]] },
  { name: 'an expression tree too deep', source: `REDUCE_COSTS BY 1%${' + 1%'.repeat(70)}`, diagnostics: [['EXPRESSION_TOO_DEEP', 1, 17]] },
  { name: 'an amount the directive does not take', source: 'SIMULATE_FAILURE BY 5%', diagnostics: [['AMOUNT_NOT_ALLOWED', 1, 21]] },
  { name: 'a required amount missing', source: 'SIMULATE_WORK', diagnostics: [['MISSING_AMOUNT', 1, 1]] },
  { name: 'an unknown agent variable', source: 'WHEN agent.cpuu > 5% { OPTIMIZE_THROUGHPUT }', diagnostics: [['UNKNOWN_VARIABLE', 1, 6]], mentions: ['agent.cpu'] },
  { name: 'a rollout key that depends on an agent', source: 'OPTIMIZE_THROUGHPUT { DEADLINE: agent.uptime }', diagnostics: [['NOT_CONSTANT', 1, 33]] },
  {
    name: 'a rollout key under a runtime branch',
    source: 'WHEN agent.cpu > 50% {\n  OPTIMIZE_THROUGHPUT { MAX_PARALLEL: 5 }\n}',
    diagnostics: [['ROLLOUT_IN_RUNTIME_BRANCH', 2, 39]],
  },
  {
    name: 'one rollout key with two values across directives',
    source: 'REDUCE_COSTS BY 5% { DEADLINE: 2h }\nOPTIMIZE_THROUGHPUT { DEADLINE: 1h }',
    diagnostics: [['ROLLOUT_CONFLICT', 2, 33]],
    mentions: ['line 1'],
  },
  { name: 'MAX_PARALLEL out of range', source: 'OPTIMIZE_THROUGHPUT { MAX_PARALLEL: 0 }', diagnostics: [['OUT_OF_RANGE', 1, 37]] },
  { name: 'RETRIES not a whole number', source: 'OPTIMIZE_THROUGHPUT { RETRIES: 1.5 }', diagnostics: [['OUT_OF_RANGE', 1, 32]] },
  { name: 'MAX_FAILURES percent over 100', source: 'OPTIMIZE_THROUGHPUT { MAX_FAILURES: 101% }', diagnostics: [['PERCENT_OUT_OF_RANGE', 1, 37]] },
  { name: 'TRACE_TIMEOUT over an hour', source: 'OPTIMIZE_THROUGHPUT { TRACE_TIMEOUT: 2h }', diagnostics: [['OUT_OF_RANGE', 1, 38]] },
  { name: 'division by zero', source: 'REDUCE_COSTS { BUDGET: $5 / 0 }', diagnostics: [['DIVISION_BY_ZERO', 1, 24]] },
  { name: 'negative money', source: 'REDUCE_COSTS { BUDGET: $5 - $10 }', diagnostics: [['OUT_OF_RANGE', 1, 24]] },
  { name: 'a context default of the wrong type', source: 'OPTIMIZE_THROUGHPUT', context: { deadline: 7200 }, diagnostics: [['TYPE_MISMATCH', 1, 1]], mentions: ['context "deadline"'] },
  // A raw control character in a string: positioned at the character, whatever it is (ESC, a raw tab, C1 CSI, after a backslash).
  { name: 'an escape character in a string', source: 'SIMULATE_FAILURE { MESSAGE: "boom\u001b[2J" }', diagnostics: [['CONTROL_CHARACTER', 1, 34]], mentions: ['\\u001b', '\\n'] },
  { name: 'a raw tab in a string', source: 'SIMULATE_FAILURE {\n  MESSAGE: "a\tb"\n}', diagnostics: [['CONTROL_CHARACTER', 2, 14]], mentions: ['\\u0009'] },
  { name: 'a C1 control after a backslash in a string', source: 'SIMULATE_FAILURE { MESSAGE: "x\\\u009b1m" }', diagnostics: [['CONTROL_CHARACTER', 1, 32]], mentions: ['\\u009b'] },
  // ELSE WHEN chains: each link is one WHEN level more; past MAX_WHEN_DEPTH a positioned diagnostic, never a stack overflow.
  { name: 'an ELSE WHEN chain of 1,000 links', source: elseWhenChain('true', 1_000), diagnostics: [['WHEN_TOO_DEEP', 1, linkColumn(257)]], mentions: ['256'] },
  { name: 'an ELSE WHEN chain of 10,000 links', source: elseWhenChain('true', 10_000), diagnostics: [['WHEN_TOO_DEEP', 1, linkColumn(257)]] },
  {
    name: 'every semantic error is reported in one pass, in source order',
    source: [
      'REDUCE_COSTS BY 150% {', // 1
      '  BUDGET: 500', // 2
      '  BUDGET: $5', // 3
      '  DEADLNE: 2h', // 4
      '  DEADLINE: 9d', // 5
      '}',
      'REDUCE_COST', // 7
      'SIMULATE_WORK BY -1s', // 8
      'WHEN false { SIMULATE_WORK BY ${nope} }', // 9: dead code is still checked
    ].join('\n'),
    diagnostics: [
      ['PERCENT_OUT_OF_RANGE', 1, 17],
      ['TYPE_MISMATCH', 2, 11],
      ['DUPLICATE_KEY', 3, 3],
      ['UNKNOWN_KEY', 4, 3],
      ['DEADLINE_TOO_LONG', 5, 13],
      ['UNKNOWN_DIRECTIVE', 7, 1],
      ['DURATION_NOT_POSITIVE', 8, 18],
      ['UNDEFINED_CONTEXT', 9, 31],
    ],
  },
];

describe('invalid programs produce the expected diagnostics', () => {
  it.each(CASES)('$name', ({ source, context, diagnostics, mentions }) => {
    const result = compileTest(source, context);
    expect(result.ok).toBe(false);
    expect(result.bytecode).toBeNull();
    expect(result.rollout).toBeNull();
    const errors = result.diagnostics.filter((d) => d.severity === 'error');
    expect(errors.map((d): Expected => [d.code, d.line, d.column])).toEqual(diagnostics);
    for (const word of mentions ?? []) expect(errors[0].message).toContain(word);
  });

  it('a syntax error lists what was expected at that point', () => {
    const [d] = compileTest('REDUCE_COSTS BY 15% {\n  BUDGET $5\n}').diagnostics;
    expect(d).toMatchObject({ code: 'SYNTAX_ERROR', line: 2, column: 10, expected: ["':'"] });
  });

  it('a flood of errors is cut at 200, with one diagnostic saying how many were dropped', () => {
    // 299 duplicate keys and one TOO_MANY_KEYS: 300 errors.
    const result = compileTest(`REDUCE_COSTS {\n${'BUDGET: $1\n'.repeat(300)}}`);
    expect(result.diagnostics).toHaveLength(201);
    expect(result.diagnostics[200]).toMatchObject({ code: 'TOO_MANY_DIAGNOSTICS', message: expect.stringContaining('100 more') });
  });

  it('names a stray control character outside a string by its escape, never as the raw character', () => {
    const [d] = compileTest('REDUCE_COSTS BY 15% \u001b[2J').diagnostics;
    expect(d).toMatchObject({ code: 'SYNTAX_ERROR', line: 1, column: 21 });
    expect(d.message).toContain('the control character \\u001b');
    expect(d.message).not.toMatch(/[\u0000-\u001f]/);
  });

  it('an unterminated string is named as such', () => {
    expect(compileTest('SIMULATE_FAILURE { MESSAGE: "oops }').diagnostics[0].message).toContain('a string with no closing quote on its line');
  });

  it('a program whose every directive is dead compiles, with a warning', () => {
    const result = compileTest('WHEN 1 > 2 { OPTIMIZE_THROUGHPUT }');
    expect(result.ok).toBe(true);
    expect(result.diagnostics.map((d) => [d.code, d.severity])).toEqual([['NO_DIRECTIVE_RUNS', 'warning']]);
  });
});
