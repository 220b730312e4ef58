// Grammar details a user relies on: operator precedence, line endings, spans, and literal forms.
import { compileTest } from './fixtures';

/** The folded value of a number-valued expression, read back through a duration amount: `1s * (expr)`. */
function foldNumber(expr: string): string | null | undefined {
  const result = compileTest(`SIMULATE_WORK BY 1s * (${expr})`);
  return result.ok ? result.directives[0].amount : result.diagnostics[0]?.message;
}
function runs(condition: string): boolean {
  const result = compileTest(`WHEN ${condition} { OPTIMIZE_THROUGHPUT }`);
  expect(result.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  return result.directives.length === 1;
}

describe('operator precedence', () => {
  it.each([
    ['1 + 2 * 3', '7s'],
    ['(1 + 2) * 3', '9s'],
    ['10 - 2 - 3', '5s'],
    ['24 / 4 / 2', '3s'],
    ['-2 + 5', '3s'],
    ['1h / 30m', '2s'],
    ['$100 / $25', '4s'],
  ])('%s folds to %s', (expr, expected) => {
    expect(foldNumber(expr)).toBe(expected);
  });

  it('not takes in the comparison after it but not an and/or', () => {
    expect(runs('not 1 > 2 and true')).toBe(true);
    expect(runs('not true == false')).toBe(true);
    expect(runs('true == not false')).toBe(true);
    expect(runs('false or not false and true')).toBe(true);
    expect(runs('not not true')).toBe(true);
  });

  it('unit rules fold the same as the VM computes: a percent of money, money minus money', () => {
    expect(compileTest('REDUCE_COSTS { BUDGET: $500 * 10% + $1,000.25 - $0.25 }').directives[0].params.BUDGET).toBe('$1050');
    expect(compileTest('REDUCE_COSTS BY 50% * 50%').directives[0].amount).toBe('25%');
  });
});

describe('layout', () => {
  it('accepts CRLF line ends, tabs, trailing comments and no final newline', () => {
    const result = compileTest('REDUCE_COSTS BY 15% {\r\n\tBUDGET: $5 # cap\r\n\tMETRICS: cpu,\r\n\t\tmemory\r\n}\r\nOPTIMIZE_THROUGHPUT # end');
    expect(result.diagnostics).toEqual([]);
    expect(result.directives.map((d) => d.name)).toEqual(['REDUCE_COSTS', 'OPTIMIZE_THROUGHPUT']);
    expect(result.directives[0].params.METRICS).toBe('cpu, memory');
  });

  it('an ELSE may start on the line after the closing brace', () => {
    expect(compileTest('WHEN agent.cpu > 5% {\n  OPTIMIZE_THROUGHPUT\n}\nELSE {\n  REDUCE_COSTS\n}').ok).toBe(true);
  });

  it('diagnostics span the whole offending token', () => {
    const [d] = compileTest('REDUCE_COSTS BY 15% {\n  BUDGET: $5 + 1h\n}').diagnostics;
    expect(d).toMatchObject({ code: 'TYPE_MISMATCH', line: 2, column: 11, endLine: 2, endColumn: 18 });
  });

  it('a number too large to represent is refused, not written as Infinity', () => {
    expect(compileTest(`REDUCE_COSTS BY 1${'0'.repeat(400)}%`).diagnostics[0].code).toBe('NOT_FINITE');
  });
});
