// Appends bounded JSON trace lines to execution.log and rotates it to execution.log.1, only between runs.
import { appendFileSync, renameSync, statSync } from 'node:fs';
import path from 'node:path';
import { AgentTraceLine, EXECUTION_LOG_FILE, LOG_ROTATE_BYTES, MAX_TRACE_LINE_BYTES, ROTATED_LOG_FILE } from './protocol';

/** When a line is too long, free-text fields are cut to this many characters. */
export const MAX_CUT_TEXT_CHARS = 400;

export interface TraceWriter {
  write(line: AgentTraceLine): void;
  /** Rotates when the log is past the threshold; the runtime calls it only when no run is writing. */
  rotateIfNeeded(): void;
}

export interface FileTraceWriterOptions {
  logsDir: string;
  rotateBytes?: number;
}

export function createFileTraceWriter(options: FileTraceWriterOptions): TraceWriter {
  const logFile = path.join(options.logsDir, EXECUTION_LOG_FILE);
  const rotatedFile = path.join(options.logsDir, ROTATED_LOG_FILE);
  const rotateBytes = options.rotateBytes ?? LOG_ROTATE_BYTES;
  return {
    write(line) {
      appendFileSync(logFile, serializeTraceLine(line), { mode: 0o644 });
    },
    rotateIfNeeded() {
      let size: number;
      try {
        size = statSync(logFile).size;
      } catch {
        return;
      }
      if (size > rotateBytes) renameSync(logFile, rotatedFile);
    },
  };
}

/** One JSON line, newline included, never longer than MAX_TRACE_LINE_BYTES. */
export function serializeTraceLine(line: AgentTraceLine): string {
  const text = JSON.stringify(line) + '\n';
  if (Buffer.byteLength(text) <= MAX_TRACE_LINE_BYTES) return text;
  const cut = (s: string) => (s.length > MAX_CUT_TEXT_CHARS ? `${s.slice(0, MAX_CUT_TEXT_CHARS)}…` : s);
  const shorter: AgentTraceLine =
    'final' in line
      ? { ...line, ...(line.error ? { error: { code: cut(line.error.code), message: cut(line.error.message) } } : {}) }
      : {
          ...line,
          instruction: cut(line.instruction),
          ...(line.outcome ? { outcome: { truncated: true } } : {}),
          ...(line.error !== undefined ? { error: cut(line.error) } : {}),
        };
  const again = JSON.stringify(shorter) + '\n';
  if (Buffer.byteLength(again) <= MAX_TRACE_LINE_BYTES) return again;
  // Only reachable with pathological ids; ids are bounded by the protocol, so this is a last resort.
  throw new RangeError(`trace line of ${Buffer.byteLength(again)} bytes exceeds ${MAX_TRACE_LINE_BYTES} even after cutting`);
}
