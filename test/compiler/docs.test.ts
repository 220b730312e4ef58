// docs/dsl.md stays true: its examples compile, and it documents every diagnostic code the compiler can report.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { DIAGNOSTIC_CODES } from '../../src/compiler';
import { compileTest } from './fixtures';

const DSL_DOC = readFileSync(path.resolve(__dirname, '../../docs/dsl.md'), 'utf8');
const DOC_CONTEXT = { deadline: '2h', budget: 500, env: 'production' };

describe('docs/dsl.md', () => {
  const examples = [...DSL_DOC.matchAll(/```dsl\n([\s\S]*?)```/g)].map((m) => m[1]);

  it('has examples', () => {
    expect(examples.length).toBeGreaterThanOrEqual(4);
  });

  it.each(examples.map((e, i) => [i + 1, e]))('example %i compiles', (_n, source) => {
    const result = compileTest(source as string, DOC_CONTEXT);
    expect(result.diagnostics).toEqual([]);
    expect(result.ok).toBe(true);
  });

  it('lists every diagnostic code in its table', () => {
    const missing = Object.keys(DIAGNOSTIC_CODES).filter((code) => !DSL_DOC.includes(`| \`${code}\` |`));
    expect(missing).toEqual([]);
  });
});
