// The CLI's rendering on its own: the progress line in every phase and width, the in-place redraw, and the one
// sanitizer every command's output goes through.
import fc from 'fast-check';
import { main } from '../../src/cli/main';
import type { CliIo } from '../../src/cli/io';
import { displayWidth, OutputStream, safeSink, terminalSafe } from '../../src/cli/terminal-text';
import { ProgressDisplay, progressLine } from '../../src/cli/watch';
import type { InjectionView } from '../../src/gateway/injection-service';
import { counts, scriptedRun, startFakeGateway, view } from '../support/fake-gateway';

const ID = 'inj-3f2b9c1e-8d4a-4b6f-9e21-7c5d0a1b2e3f';
const STATUSES: InjectionView['status'][] = ['compiling', 'resolving', 'canary', 'rolling-out', 'paused', 'rolling-back', 'succeeded', 'partially-succeeded', 'aborted', 'failed'];

function stream(columns: number | undefined, isTTY: boolean): OutputStream & { text: string } {
  const s = { text: '', isTTY, columns, write: (t: string) => void (s.text += t) };
  return s;
}

describe('the progress line', () => {
  const arbitraryView = fc
    .record({
      status: fc.constantFrom(...STATUSES),
      done: fc.boolean(),
      paused: fc.boolean(),
      withCounts: fc.boolean(),
      parts: fc.array(fc.nat({ max: 5_000 }), { minLength: 6, maxLength: 6 }),
      id: fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/),
    })
    .map(({ status, done, paused, withCounts, parts, id }) => {
      const [pending, running, injected, rolledBack, reverted, skipped] = parts;
      const total = parts.reduce((a, b) => a + b, 0);
      return view(id, { status, done, paused, counts: withCounts ? counts({ total, pending, running, injected, rolledBack, reverted, skipped }) : null });
    });

  it('never says NaN, Infinity or undefined, and fits any width from 10 to 300 columns, in every phase', () => {
    fc.assert(
      fc.property(arbitraryView, fc.oneof(fc.constant(Number.NaN), fc.constant(Number.POSITIVE_INFINITY), fc.nat({ max: 10 ** 9 })), fc.integer({ min: 10, max: 300 }), (v, elapsed, width) => {
        for (const line of [progressLine(v, elapsed, width), progressLine(v, elapsed)]) expect(line).not.toMatch(/NaN|Infinity|undefined/);
        expect(displayWidth(progressLine(v, elapsed, width))).toBeLessThanOrEqual(width);
      }),
      { numRuns: 2_000 },
    );
  });

  it('shows no bar and no 0/0 before the targets are known, and no ETA while rolling back or paused', () => {
    const [compiling, resolving] = scriptedRun(ID);
    expect(progressLine(compiling, 1_000)).toBe(`${ID} compiling`);
    expect(progressLine(resolving, 1_000)).toBe(`${ID} resolving no agents yet`);
    const c = counts({ total: 10, injected: 3, reverted: 2, running: 2, pending: 3 });
    expect(progressLine(view(ID, { status: 'rolling-back', counts: c }), 5_000)).toMatch(/ rolling back$/);
    expect(progressLine(view(ID, { status: 'paused', paused: true, counts: c }), 5_000)).toMatch(/ paused$/);
    expect(progressLine(view(ID, { status: 'rolling-out', counts: c }), 5_000)).toMatch(/ 5\/10 .* ETA 5s$/);
  });
});

describe('the progress display', () => {
  it('off a terminal, appends one plain line per update, with no cursor sequence', () => {
    const out = stream(undefined, false);
    const display = new ProgressDisplay(safeSink(out));
    display.show(() => 'one', false);
    display.show(() => 'two', true);
    expect(out.text).toBe('one\ntwo\n');
  });

  it('on a terminal, redraws in place, and after the terminal narrowed climbs back over the rows the old line wraps to', () => {
    const out = stream(100, true);
    const display = new ProgressDisplay(safeSink(out));
    display.show((w) => 'x'.repeat(w ?? 0), false);
    expect(out.text).toBe('x'.repeat(99));
    out.text = '';
    out.columns = 40; // 99 columns now wrap over three rows of 40
    display.show((w) => 'y'.repeat(w ?? 0), true);
    expect(out.text).toBe(`\r\x1b[2A\x1b[J${'y'.repeat(39)}\n`);
  });
});

describe('what the CLI prints from agents and the gateway', () => {
  const hostile = 'boom\u001b[2J\u001b]0;pwned\u0007\r\u009b31m';

  it('the sanitizer escapes every control character but newline and tab, and is a no-op on its own output', () => {
    expect(terminalSafe(hostile)).toBe('boom\\u001b[2J\\u001b]0;pwned\\u0007\\u000d\\u009b31m');
    expect(terminalSafe(terminalSafe(hostile))).toBe(terminalSafe(hostile));
    expect(terminalSafe('a\tb\nc')).toBe('a\tb\nc');
  });

  it('status, plain or --json, goes through it: escapes on screen, and JSON that still parses to the same text', async () => {
    const v = view(ID, { status: 'rolling-back', counts: counts({ total: 1, rolledBack: 1 }), error: { code: 'X', message: hostile } });
    v.agents = { offset: 0, limit: 50, total: 1, items: [{ agentId: 'agent-1', outcome: 'rolled-back', host: null, childWorkflowId: null, error: hostile }] };
    const gateway = await startFakeGateway(ID, [v]);
    try {
      for (const json of [false, true]) {
        const out = stream(80, false);
        const err = stream(80, false);
        const io: CliIo = { stdout: safeSink(out), stderr: safeSink(err), readFile: async () => '', readStdin: async () => '', trustedKeys: () => new Map(), env: {} };
        expect(await main(['status', ID, '--url', gateway.url, ...(json ? ['--json'] : [])], io)).toBe(0);
        expect(out.text).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/);
        if (json) expect((JSON.parse(out.text) as InjectionView).agents.items[0].error).toBe(hostile);
        else expect(out.text).toContain('boom\\u001b[2J');
      }
    } finally {
      await gateway.close();
    }
  });
});
