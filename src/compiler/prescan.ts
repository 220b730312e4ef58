// A pre-parse scan of the source, skipping comments and reading string literals as the grammar does: refuses what
// the parser must never see. Parsimmon recurses per nesting level, so deep brackets are refused before parsing; a raw
// control character in a string would reach the agents' traces and operators' terminals, so it is refused too.
import { CONTROL_CHARACTER } from '../shared/control-chars';
import type { Span } from './ast';
import type { DiagnosticCode } from './diagnostics';
import { MAX_NESTING_DEPTH } from './limits';

export interface PrescanFinding {
  code: Extract<DiagnosticCode, 'NESTING_TOO_DEEP' | 'CONTROL_CHARACTER'>;
  span: Span;
  /** CONTROL_CHARACTER: the character found. */
  char?: string;
}

/** The first problem in source order: a bracket deeper than MAX_NESTING_DEPTH, or a control character in a string. */
export function prescan(source: string): PrescanFinding | undefined {
  let depth = 0;
  let line = 1;
  let lineStart = 0;
  const at = (i: number): Span => {
    const start = { offset: i, line, column: i - lineStart + 1 };
    return { start, end: { ...start, offset: i + 1, column: start.column + 1 } };
  };
  for (let i = 0; i < source.length; i++) {
    const c = source[i];
    if (c === '\n') {
      line++;
      lineStart = i + 1;
    } else if (c === '#') {
      while (i + 1 < source.length && source[i + 1] !== '\n') i++;
    } else if (c === '"') {
      // A string ends at its closing quote or, unclosed, at the end of its line (the grammar then reports it).
      for (i++; i < source.length && source[i] !== '"' && source[i] !== '\n' && source[i] !== '\r'; i++) {
        if (CONTROL_CHARACTER.test(source[i])) return { code: 'CONTROL_CHARACTER', span: at(i), char: source[i] };
        if (source[i] === '\\' && i + 1 < source.length && source[i + 1] !== '\n' && source[i + 1] !== '\r') {
          i++;
          if (CONTROL_CHARACTER.test(source[i])) return { code: 'CONTROL_CHARACTER', span: at(i), char: source[i] };
        }
      }
      if (source[i] !== '"') i--; // leave the line break to the loop, which counts lines
    } else if (c === '(' || c === '{') {
      if (++depth > MAX_NESTING_DEPTH) return { code: 'NESTING_TOO_DEEP', span: at(i) };
    } else if ((c === ')' || c === '}') && depth > 0) {
      depth--;
    }
  }
  return undefined;
}
