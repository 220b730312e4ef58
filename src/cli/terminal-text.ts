// What the CLI puts on a terminal: text from agents and the gateway with its control characters escaped (one
// sanitizer, in the output sink, so no command can forget it), and the display width of what it prints.
import { escapeControlCharacters } from '../shared/control-chars';

/**
 * Newlines end the CLI's own lines and tabs line carets up under source text; every other control character (ESC,
 * CR, BEL, CSI, …) is shown as its `\uXXXX` escape, so no text can move the cursor, recolour or retitle the
 * terminal. Inside JSON the escape is the same string, so `--json` output stays valid and equal.
 */
const KEPT_CONTROLS: ReadonlySet<string> = new Set(['\n', '\t']);

export function terminalSafe(text: string): string {
  return escapeControlCharacters(text, KEPT_CONTROLS);
}

/** Where a command writes its text: stdout or stderr through safeSink, or a test's capture. */
export interface TextSink {
  write(text: string): void;
  /** The CLI's own terminal sequences (cursor moves, line clears), written unescaped; absent where none may go. */
  control?(sequence: string): void;
  /** True on a terminal. */
  readonly isTTY?: boolean;
  /** The terminal's width in columns, when known. */
  readonly columns?: number;
}

/** The stream a sink writes to: process.stdout or process.stderr, or a test's stand-in. */
export interface OutputStream {
  write(text: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

/** A sink whose `write` escapes control characters; `control` writes the CLI's own cursor sequences as they are. */
export function safeSink(stream: OutputStream): TextSink {
  return {
    write: (text) => void stream.write(terminalSafe(text)),
    control: (sequence) => void stream.write(sequence),
    get isTTY() {
      return stream.isTTY === true;
    },
    get columns() {
      return stream.columns;
    },
  };
}

// Code points a terminal draws two columns wide (East Asian wide and full-width forms, most emoji).
const WIDE = /[\u1100-\u115f\u2e80-\u303e\u3041-\u33ff\u3400-\u4dbf\u4e00-\u9fff\ua000-\ua4cf\uac00-\ud7a3\uf900-\ufaff\ufe30-\ufe4f\uff00-\uff60\uffe0-\uffe6]|[\u{1f300}-\u{1f64f}\u{1f900}-\u{1f9ff}\u{20000}-\u{3fffd}]/u;
// Combining marks take no column of their own.
const ZERO_WIDTH = /[\u0300-\u036f\u200b-\u200f\u20d0-\u20ff\ufe00-\ufe0f]/;

function charWidth(char: string): number {
  if (ZERO_WIDTH.test(char)) return 0;
  return WIDE.test(char) ? 2 : 1;
}

/** How many terminal columns `text` takes (one line, control characters already escaped). */
export function displayWidth(text: string): number {
  let width = 0;
  for (const char of text) width += charWidth(char);
  return width;
}

/** `text` cut to at most `width` columns, with … marking a cut. */
export function fitToWidth(text: string, width: number): string {
  if (displayWidth(text) <= width) return text;
  if (width <= 0) return '';
  let out = '';
  let used = 0;
  for (const char of text) {
    const w = charWidth(char);
    if (used + w > width - 1) break;
    out += char;
    used += w;
  }
  return `${out}…`;
}
