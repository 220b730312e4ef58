// Protocol v2: the agent answers each reload in one small file, .outcome-<R>.json, so the injector learns everything
// (final line, first step lines, what was replaced, what runs now) with one archive read.
import { readdirSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import {
  AgentOutcome,
  AgentTraceLine,
  CurrentProgram,
  MAX_KEPT_OUTCOMES,
  MAX_OUTCOME_BYTES,
  MAX_OUTCOME_STEP_BYTES,
  MAX_OUTCOME_STEP_LINES,
  OUTCOME_FILE_PREFIX,
  OUTCOME_FILE_SUFFIX,
  outcomeFile,
  ProgramNamed,
  RestoreOutcome,
  StepTraceLine,
} from './protocol';
import { serializeTraceLine } from './trace-writer';

/** What the runtime says about a reload before its final line: what it replaced, and whether it switched at all. */
export interface OutcomeContext {
  replaced: ProgramNamed | null;
  switched: boolean;
  restore?: RestoreOutcome;
}

export interface OutcomeRecorder {
  /** Notes the context of a reload; its step lines are collected from now on. */
  begin(reloadId: string, context: OutcomeContext): void;
  /** Every trace line goes through here after it is in the log; a final line writes the reload's outcome file. */
  observe(line: AgentTraceLine): void;
}

interface Pending {
  context: OutcomeContext;
  lines: StepTraceLine[];
  bytes: number;
  truncated: boolean;
}

export function createOutcomeRecorder(options: { dir: string; readCurrent: () => CurrentProgram | null; log: (message: string) => void }): OutcomeRecorder {
  const pending = new Map<string, Pending>();

  const prune = () => {
    const names = readdirSync(options.dir).filter((n) => n.startsWith(OUTCOME_FILE_PREFIX) && n.endsWith(OUTCOME_FILE_SUFFIX));
    if (names.length <= MAX_KEPT_OUTCOMES) return;
    const aged = names.map((name) => ({ name, mtime: statSync(path.join(options.dir, name)).mtimeMs })).sort((a, b) => a.mtime - b.mtime);
    for (const { name } of aged.slice(0, names.length - MAX_KEPT_OUTCOMES)) unlinkSync(path.join(options.dir, name));
  };

  const write = (outcome: AgentOutcome) => {
    let text = JSON.stringify(outcome) + '\n';
    if (Buffer.byteLength(text) > MAX_OUTCOME_BYTES) text = JSON.stringify({ ...outcome, lines: [], linesTruncated: true }) + '\n';
    const file = path.join(options.dir, outcomeFile(outcome.reloadId));
    const tmp = `${file}.tmp`;
    writeFileSync(tmp, text, { mode: 0o644 });
    renameSync(tmp, file);
    prune();
  };

  return {
    begin(reloadId, context) {
      pending.set(reloadId, { context, lines: [], bytes: 0, truncated: false });
    },
    observe(line) {
      const entry = pending.get(line.injectionId);
      if (!('final' in line)) {
        if (!entry) return;
        const size = Buffer.byteLength(serializeTraceLine(line));
        if (entry.lines.length >= MAX_OUTCOME_STEP_LINES || entry.bytes + size > MAX_OUTCOME_STEP_BYTES) entry.truncated = true;
        else {
          entry.lines.push(line);
          entry.bytes += size;
        }
        return;
      }
      pending.delete(line.injectionId);
      const context = entry?.context ?? { replaced: null, switched: false };
      try {
        write({
          v: 2,
          reloadId: line.injectionId,
          final: line,
          lines: entry?.lines ?? [],
          linesTruncated: entry?.truncated ?? false,
          replaced: context.replaced,
          switched: context.switched,
          current: options.readCurrent(),
          ...(context.restore ? { restore: context.restore } : {}),
        });
      } catch (err) {
        // The final line is in the log whatever happens here; a v2 injector then times out and rolls back.
        options.log(`could not write the outcome of ${line.injectionId}: ${String(err)}`);
      }
    },
  };
}
