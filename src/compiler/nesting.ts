// A pre-parse scan for bracket depth: Parsimmon recurses per nesting level, so refuse deep nesting before parsing.
import type { Span } from './ast';
import { MAX_NESTING_DEPTH } from './limits';

/** The span of the first bracket that nests deeper than MAX_NESTING_DEPTH, skipping strings and comments. */
export function findExcessNesting(source: string): Span | undefined {
  let depth = 0;
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < source.length; i++) {
    const c = source[i];
    if (c === '\n') {
      line++;
      lineStart = i + 1;
    } else if (c === '#') {
      while (i + 1 < source.length && source[i + 1] !== '\n') i++;
    } else if (c === '"') {
      while (i + 1 < source.length && source[i + 1] !== '"' && source[i + 1] !== '\n') i += source[i + 1] === '\\' ? 2 : 1;
      i++;
    } else if (c === '(' || c === '{') {
      if (++depth > MAX_NESTING_DEPTH) {
        const at = { offset: i, line, column: i - lineStart + 1 };
        return { start: at, end: { ...at, offset: i + 1, column: at.column + 1 } };
      }
    } else if ((c === ')' || c === '}') && depth > 0) {
      depth--;
    }
  }
  return undefined;
}
