// A post-parse check of how deep WHEN blocks nest, each ELSE WHEN counting as a level (the checker and the code
// generator recurse once per level): walked with an explicit stack, so a chain of any length is measured safely.
import type { Span, Statement } from './ast';
import { MAX_WHEN_DEPTH } from './limits';

/** The span of a WHEN one level past MAX_WHEN_DEPTH (the link of a chain, or the block, where the bound is passed). */
export function findExcessWhenDepth(statements: Statement[]): Span | undefined {
  const pending: Array<{ statements: Statement[]; depth: number }> = [{ statements, depth: 0 }];
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    for (const statement of next.statements) {
      if (statement.kind !== 'when') continue;
      const depth = next.depth + 1;
      if (depth > MAX_WHEN_DEPTH) return statement.span;
      pending.push({ statements: statement.then, depth }, { statements: statement.otherwise, depth });
    }
  }
  return undefined;
}
