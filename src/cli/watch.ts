// `--watch`: polls an injection's status and prints one progress line per change — a bar, the counts and an ETA.
import type { InjectionView } from '../gateway/injection-service';
import { callGateway, GatewayTarget } from './gateway-client';
import type { CliIo } from './io';

export const DEFAULT_WATCH_INTERVAL_MS = 1_000;
export const MIN_WATCH_INTERVAL_MS = 100;
/** A watch gives up after this long (the longest DEADLINE a program may set is seven days). */
export const MAX_WATCH_MS = 7 * 24 * 3_600_000 + 3_600_000;
export const PROGRESS_BAR_CELLS = 20;

function duration(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/** Agents whose injection has ended, one way or another. */
function finished(view: InjectionView): number {
  const c = view.counts;
  return c ? c.total - c.pending - c.running : 0;
}

/** e.g. `inj-1 rolling-out [########------------] 4/10 injected 4 failed 0 running 2 pending 4 ETA 6s` */
export function progressLine(view: InjectionView, elapsedMs: number): string {
  const c = view.counts;
  if (!c) return `${view.injectionId} ${view.status}${view.error ? `: ${view.error.code}: ${view.error.message}` : ''}`;
  const done = finished(view);
  const filled = c.total === 0 ? PROGRESS_BAR_CELLS : Math.round((done / c.total) * PROGRESS_BAR_CELLS);
  const bar = `[${'#'.repeat(filled)}${'-'.repeat(PROGRESS_BAR_CELLS - filled)}]`;
  const rate = done / Math.max(elapsedMs, 1);
  const eta = view.done ? 'done' : done > 0 ? `ETA ${duration((c.total - done) / rate)}` : 'ETA --';
  const extra = [c.rolledBack && `rolled-back ${c.rolledBack}`, c.reverted && `reverted ${c.reverted}`, c.skipped && `skipped ${c.skipped}`].filter(Boolean).join(' ');
  return `${view.injectionId} ${view.status} ${bar} ${done}/${c.total} injected ${c.injected} failed ${c.failed} running ${c.running} pending ${c.pending}${extra ? ' ' + extra : ''} ${eta}`;
}

/** Polls until the injection is done; prints a line whenever the picture changes (on a terminal, redrawn in place). */
export async function watchInjection(target: GatewayTarget, injectionId: string, io: CliIo, options: { intervalMs: number; quiet: boolean }): Promise<InjectionView> {
  const sleep = io.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const tty = (io.stdout as { isTTY?: boolean }).isTTY === true;
  const started = Date.now();
  let last = '';
  for (;;) {
    const { body } = await callGateway(target, 'GET', `/injections/${encodeURIComponent(injectionId)}?limit=1`);
    const view = body as InjectionView;
    const elapsed = Date.now() - started;
    const line = progressLine(view, elapsed);
    const key = line.replace(/ ETA .*$/, '');
    if (!options.quiet && (key !== last || view.done)) {
      io.stdout.write(tty ? `\r\x1b[2K${line}${view.done ? '\n' : ''}` : `${line}\n`);
      last = key;
    }
    if (view.done) return view;
    if (elapsed > MAX_WATCH_MS) throw new Error(`gave up watching ${injectionId} after ${duration(MAX_WATCH_MS)}`);
    await sleep(options.intervalMs);
  }
}
