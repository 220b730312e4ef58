// The CLI as an operator sees it: run in a real pseudo-terminal (tmux) against a scripted gateway, and judged by what
// the screen holds afterwards (tmux capture-pane): no line wider than the terminal, no stale fragment of an earlier
// redraw, no NaN, and text from agents shown with its control characters escaped.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { displayWidth } from '../../src/cli/terminal-text';
import { buildCli } from '../support/cli-build';
import { counts, FakeGateway, scriptedRun, startFakeGateway, view } from '../support/fake-gateway';

const TEST_TIMEOUT_MS = 60_000;
/** How long the CLI may take to finish a scripted run (nine polls at its shortest interval, plus start-up). */
const RUN_DONE_TIMEOUT_MS = 30_000;
const POLL_MS = 50;
const SCREEN_ROWS = 40;
const INJECTION_ID = 'inj-3f2b9c1e-8d4a-4b6f-9e21-7c5d0a1b2e3f';
/** A hostile agent's error: clear the screen, home the cursor, retitle the window, ring the bell, colour red. */
const HOSTILE_ERROR = 'boom\u001b[2J\u001b[H\u001b]0;pwned\u0007\u001b[31mred\u009b1m';

const run = promisify(execFile);

interface Terminal {
  /** Runs `argv` in a fresh pane `columns` wide; resolves with the screen once the program has exited. */
  show(columns: number, argv: string[]): Promise<{ lines: string[]; exitCode: number }>;
}

function tmuxTerminal(dir: string, env: Record<string, string>): Terminal {
  // A private tmux server (its own socket and an empty config that keeps dead panes), never the user's.
  const socket = path.join(dir, 'tmux.sock');
  const config = path.join(dir, 'tmux.conf');
  writeFileSync(config, 'set -g remain-on-exit on\nset -g status off\n');
  const tmux = (...args: string[]) => run('tmux', ['-S', socket, '-f', config, ...args], { env: { ...process.env, ...env, TMUX: '' } });
  let sessions = 0;
  return {
    async show(columns, argv) {
      const session = `s${++sessions}`;
      // The program waits for a key before it starts: what a pane prints while tmux still sets it up can be lost.
      // The shell writes the program's exit code to a file: tmux does not always record a dead pane's status.
      const exitFile = path.join(dir, `${session}.exit`);
      await tmux('new-session', '-d', '-s', session, '-x', String(columns), '-y', String(SCREEN_ROWS), '--', 'sh', '-c', 'read -r _; f="$1"; shift; "$@"; echo $? > "$f"', 'sh', exitFile, ...argv);
      await tmux('send-keys', '-t', session, 'Enter');
      try {
        const deadline = Date.now() + RUN_DONE_TIMEOUT_MS;
        for (;;) {
          const { stdout } = await tmux('display-message', '-p', '-t', session, '#{pane_dead}');
          const status = existsSync(exitFile) ? readFileSync(exitFile, 'utf8').trim() : '';
          if (stdout.trim() === '1' && status !== '') {
            const screen = await tmux('capture-pane', '-p', '-J', '-t', session);
            const lines = screen.stdout
              .split('\n')
              .map((l) => l.trimEnd())
              .filter((l) => l !== '' && !l.startsWith('Pane is dead'));
            return { lines, exitCode: Number(status) };
          }
          if (Date.now() > deadline) {
            const screen = await tmux('capture-pane', '-p', '-J', '-t', session).catch(() => ({ stdout: '' }));
            const state = await tmux('display-message', '-p', '-t', session, '#{pane_dead} [#{pane_dead_status}] [#{pane_dead_signal}]').catch(() => ({ stdout: '' }));
            throw new Error(`${argv.join(' ')} did not finish within ${RUN_DONE_TIMEOUT_MS} ms (${state.stdout.trim()}): ${screen.stdout.trim()}`);
          }
          await new Promise((resolve) => setTimeout(resolve, POLL_MS));
        }
      } finally {
        await tmux('kill-session', '-t', session).catch(() => undefined);
      }
    },
  };
}

describe('the CLI on a terminal', () => {
  let dir: string;
  let cli: { main: string; env: Record<string, string> };
  let terminal: Terminal;
  let socket: string;
  const gateways: FakeGateway[] = [];

  beforeAll(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'openclaw-screen-'));
    cli = buildCli(path.join(dir, 'build'));
    writeFileSync(path.join(dir, 'prog.oc'), 'OPTIMIZE_THROUGHPUT { MAX_PARALLEL: 4 }\n');
    socket = path.join(dir, 'tmux.sock');
    terminal = tmuxTerminal(dir, cli.env);
  }, TEST_TIMEOUT_MS);

  afterAll(async () => {
    await Promise.all(gateways.map((g) => g.close()));
    await promisify(execFile)('tmux', ['-S', socket, 'kill-server']).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  });

  async function gateway(views = scriptedRun(INJECTION_ID)): Promise<FakeGateway> {
    const started = await startFakeGateway(INJECTION_ID, views);
    gateways.push(started);
    return started;
  }

  it.each([80, 200])('inject --watch at %i columns redraws one line in place: the screen holds no fragment, no NaN, nothing wider', async (columns) => {
    const fake = await gateway();
    const { lines, exitCode } = await terminal.show(columns, [process.execPath, cli.main, 'inject', path.join(dir, 'prog.oc'), '--watch', '--interval', '100', '--url', fake.url]);

    expect(fake.polls()).toBeGreaterThanOrEqual(scriptedRun(INJECTION_ID).length);
    expect(exitCode).toBe(1); // partially succeeded
    expect(lines).toEqual([
      `started ${INJECTION_ID}`,
      'watching it (Ctrl-C stops the watch, not the injection)',
      expect.stringMatching(new RegExp(`^${INJECTION_ID} partially-succeeded .*10/10 .*done$`)),
      `${INJECTION_ID} ended: partially-succeeded`,
    ]);
    for (const line of lines) expect(displayWidth(line)).toBeLessThan(columns);
    expect(lines.join('\n')).not.toContain('NaN');
    if (columns === 200) expect(lines[2]).toBe(`${INJECTION_ID} partially-succeeded [####################] 10/10 injected 7 failed 2 running 0 pending 0 rolled-back 2 skipped 1 done`);
  }, TEST_TIMEOUT_MS);

  it.each([80, 200])('status of a rolling-back injection at %i columns: no NaN, the progress fits, agent text escaped', async (columns) => {
    const rollingBack = view(INJECTION_ID, {
      status: 'rolling-back',
      wave: 'rollback',
      counts: counts({ total: 10, injected: 3, rolledBack: 1, reverted: 2, running: 2, pending: 2 }),
      agents: { offset: 0, limit: 50, total: 1, items: [{ agentId: 'agent-1', outcome: 'rolled-back', host: 'local', childWorkflowId: null, error: HOSTILE_ERROR }] },
    });
    const fake = await gateway([rollingBack]);
    const { lines, exitCode } = await terminal.show(columns, [process.execPath, cli.main, 'status', INJECTION_ID, '--url', fake.url]);

    expect(exitCode).toBe(0);
    expect(lines[0]).toMatch(new RegExp(`^${INJECTION_ID} rolling-back .*rolling back$`));
    expect(displayWidth(lines[0])).toBeLessThan(columns);
    expect(lines.join('\n')).not.toContain('NaN');
    // The escape sequences are on the screen as text: they did not clear it, move the cursor or colour anything.
    expect(lines.find((l) => l.includes('agent-1'))).toContain('boom\\u001b[2J\\u001b[H\\u001b]0;pwned\\u0007\\u001b[31mred\\u009b1m');
  }, TEST_TIMEOUT_MS);
});
