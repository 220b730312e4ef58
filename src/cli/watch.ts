// `--watch`: polls an injection's status and shows its progress — a bar, the counts and an ETA — redrawn in place
// within the terminal's width on a terminal, one plain line per change anywhere else.
import type { InjectionView } from '../gateway/injection-service';
import { callGateway, GatewayTarget } from './gateway-client';
import type { CliIo } from './io';
import type { TextSink } from './terminal-text';
import { displayWidth, fitToWidth, terminalSafe } from './terminal-text';

export const DEFAULT_WATCH_INTERVAL_MS = 1_000;
export const MIN_WATCH_INTERVAL_MS = 100;
/** A watch gives up after this long (the longest DEADLINE a program may set is seven days). */
export const MAX_WATCH_MS = 7 * 24 * 3_600_000 + 3_600_000;
export const PROGRESS_BAR_CELLS = 20;
/** The bar of the shorter forms of the line, for narrow terminals. */
export const NARROW_PROGRESS_BAR_CELLS = 10;
/** A terminal that reports no width is taken to be this wide. */
export const DEFAULT_TERMINAL_COLUMNS = 80;

// ANSI sequences for the redraw: up N rows, and clear from the cursor to the end of the screen.
const CURSOR_UP = (rows: number) => `\x1b[${rows}A`;
const CLEAR_TO_END = '\x1b[J';

/** `1m05s`; `--` for what cannot be a duration (an unknown rate, a negative or endless span). */
function duration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '--';
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/** Agents whose injection has ended, one way or another. */
function finished(view: InjectionView): number {
  const c = view.counts;
  return c ? Math.max(0, c.total - c.pending - c.running) : 0;
}

/**
 * What comes after the counts: `done`, `paused`, `rolling back`, or an estimate from the pace so far — only while
 * agents move forward and some have finished; `ETA --` when there is nothing to go on yet.
 */
function eta(view: InjectionView, elapsedMs: number): string {
  if (view.done) return 'done';
  if (view.paused || view.status === 'paused') return 'paused';
  if (view.status === 'rolling-back') return 'rolling back';
  const c = view.counts;
  const done = finished(view);
  if (!c || done === 0 || done >= c.total || !Number.isFinite(elapsedMs) || elapsedMs <= 0) return 'ETA --';
  return `ETA ${duration(((c.total - done) * elapsedMs) / done)}`;
}

function bar(done: number, total: number, cells: number): string {
  const filled = Math.min(cells, Math.max(0, Math.round((done / total) * cells)));
  return `[${'#'.repeat(filled)}${'-'.repeat(cells - filled)}]`;
}

/** The line's forms, longest first; the widest one that fits is shown. */
function progressForms(view: InjectionView, elapsedMs: number): string[] {
  const head = `${view.injectionId} ${view.status}`;
  const c = view.counts;
  if (!c) return [`${head}${view.error ? `: ${view.error.code}: ${view.error.message}` : ''}`, head];
  const tail = eta(view, elapsedMs);
  // No agents yet (compiling, resolving) or none at all: no bar and no 0/0.
  if (c.total === 0) return [`${head} ${view.done ? 'no agents' : 'no agents yet'}`, head];
  const done = finished(view);
  const extra = [c.rolledBack && `rolled-back ${c.rolledBack}`, c.reverted && `reverted ${c.reverted}`, c.skipped && `skipped ${c.skipped}`].filter(Boolean).join(' ');
  const fraction = `${done}/${c.total}`;
  return [
    `${head} ${bar(done, c.total, PROGRESS_BAR_CELLS)} ${fraction} injected ${c.injected} failed ${c.failed} running ${c.running} pending ${c.pending}${extra ? ` ${extra}` : ''} ${tail}`,
    `${head} ${bar(done, c.total, NARROW_PROGRESS_BAR_CELLS)} ${fraction} ok ${c.injected} fail ${c.failed} run ${c.running} wait ${c.pending} ${tail}`,
    `${head} ${fraction} fail ${c.failed} ${tail}`,
    `${head} ${fraction} ${tail}`,
    `${view.status} ${fraction} ${tail}`,
  ];
}

/**
 * e.g. `inj-1 rolling-out [########------------] 4/10 injected 4 failed 0 running 2 pending 4 ETA 6s`. With a width,
 * the widest form that fits in it (cut with … when even the shortest does not). Control characters are escaped.
 */
export function progressLine(view: InjectionView, elapsedMs: number, width?: number): string {
  const forms = progressForms(view, elapsedMs).map(terminalSafe);
  if (width === undefined) return forms[0];
  return forms.find((form) => displayWidth(form) <= width) ?? fitToWidth(forms[forms.length - 1], width);
}

/** The width a progress line may take on `sink`: one column short of the terminal's, so it never wraps; none off a terminal. */
export function progressWidth(sink: TextSink): number | undefined {
  if (sink.isTTY !== true || !sink.control) return undefined;
  return (sink.columns && sink.columns > 1 ? sink.columns : DEFAULT_TERMINAL_COLUMNS) - 1;
}

/** One progress line kept up to date: redrawn in place on a terminal (even after it was resized), appended elsewhere. */
export class ProgressDisplay {
  /** Columns taken by the line on screen now; 0 when none is. */
  private shownWidth = 0;

  constructor(private readonly sink: TextSink) {}

  show(render: (width: number | undefined) => string, final: boolean): void {
    const width = progressWidth(this.sink);
    const line = render(width);
    if (width === undefined || !this.sink.control) {
      this.sink.write(`${line}\n`);
      return;
    }
    if (this.shownWidth > 0) {
      // A line drawn for a wider terminal now wraps over several rows: go back to the first of them.
      const rows = Math.max(1, Math.ceil(this.shownWidth / (width + 1)));
      this.sink.control(`\r${rows > 1 ? CURSOR_UP(rows - 1) : ''}${CLEAR_TO_END}`);
    }
    this.sink.write(final ? `${line}\n` : line);
    this.shownWidth = final ? 0 : displayWidth(line);
  }
}

/** What a change is: the status and the counts, not the ETA (which moves on every poll). */
function changeKey(view: InjectionView): string {
  return JSON.stringify([view.status, view.paused, view.done, view.counts]);
}

/** Polls until the injection is done; shows the progress whenever the picture changes. */
export async function watchInjection(target: GatewayTarget, injectionId: string, io: CliIo, options: { intervalMs: number; quiet: boolean }): Promise<InjectionView> {
  const sleep = io.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const display = new ProgressDisplay(io.stdout);
  const started = Date.now();
  let last = '';
  for (;;) {
    const { body } = await callGateway(target, 'GET', `/injections/${encodeURIComponent(injectionId)}?limit=1`);
    const view = body as InjectionView;
    const elapsed = Date.now() - started;
    const key = changeKey(view);
    // On a terminal the ETA is redrawn on every poll; elsewhere a line is added only when something changed.
    if (!options.quiet && (key !== last || view.done || progressWidth(io.stdout) !== undefined)) {
      display.show((width) => progressLine(view, elapsed, width), view.done);
      last = key;
    }
    if (view.done) return view;
    if (elapsed > MAX_WATCH_MS) throw new Error(`gave up watching ${injectionId} after ${duration(MAX_WATCH_MS)}`);
    await sleep(options.intervalMs);
  }
}
