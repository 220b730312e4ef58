// `npm start` as a user runs it: dev server, worker and gateway come up, /health is 200, the Web UI answers, the
// gateway wants the dev token it printed (and wrote 0600 to the data directory), and Ctrl-C (SIGINT to the whole
// process group) leaves no temporal or node process behind.
import { ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '../../src/temporal/dev-server';

const PROJECT_ROOT = path.resolve(__dirname, '..', '..');
const START_TIMEOUT_MS = 150_000;
const STOP_TIMEOUT_MS = 30_000;

/** Pids of live processes whose command line mentions `marker` (the test's own data directory). */
function processesMentioning(marker: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      const environ = readFileSync(`/proc/${entry}/environ`, 'utf8');
      if (cmdline.includes(marker) || environ.includes(marker)) pids.push(Number(entry));
    } catch {
      // the process ended while we looked
    }
  }
  return pids;
}

/** Everything the child printed so far, on both streams. */
let printed = '';

function waitForOutput(child: ChildProcess, pattern: RegExp, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(() => reject(new Error(`no ${pattern} within ${timeoutMs} ms; output so far:\n${seen}`)), timeoutMs);
    const onData = (chunk: Buffer) => {
      seen += chunk.toString();
      printed += chunk.toString();
      const match = pattern.exec(seen);
      if (match) {
        clearTimeout(timer);
        resolve(match[1] ?? match[0]);
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`npm start exited with ${code} before ${pattern}; output:\n${seen}`));
    });
  });
}

/** `npm start` with its own data directory and ports, in its own process group (like a terminal session). */
function spawnStart(dataDir: string, ports: { gatewayPort: number; devPort: number; uiPort: number }): ChildProcess {
  return spawn('npm', ['start', '--silent'], {
    cwd: PROJECT_ROOT,
    detached: true, // its own process group, like a terminal session, so SIGINT reaches npm and node alike
    env: {
      ...process.env,
      TEMPORAL_ADDRESS: '',
      OPENCLAW_DATA_DIR: dataDir,
      OPENCLAW_GATEWAY_PORT: String(ports.gatewayPort),
      OPENCLAW_DEV_SERVER_PORT: String(ports.devPort),
      OPENCLAW_DEV_SERVER_UI_PORT: String(ports.uiPort),
      OPENCLAW_API_TOKENS: '',
      OPENCLAW_INSECURE_DEV: '',
      OPENCLAW_TASK_QUEUE: `start-test-${ports.gatewayPort}`,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** Pids of live processes of this data directory whose command line contains `part`. */
function processesOf(dataDir: string, part: string): number[] {
  return processesMentioning(dataDir).filter((pid) => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(part);
    } catch {
      return false;
    }
  });
}

describe('npm start', () => {
  it('brings up dev server, worker and gateway; /health is 200; only the printed dev token is accepted; Ctrl-C leaves nothing behind', async () => {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'openclaw-start-'));
    const [gatewayPort, devPort, uiPort] = [await freePort(), await freePort(), await freePort()];
    const child = spawnStart(dataDir, { gatewayPort, devPort, uiPort });
    try {
      const gatewayUrl = await waitForOutput(child, /gateway:\s+(http:\/\/\S+)/, START_TIMEOUT_MS);
      expect(gatewayUrl).toBe(`http://127.0.0.1:${gatewayPort}`);

      let health: { status: number; body: { status?: string; parts?: Record<string, { ok: boolean }> } } = { status: 0, body: {} };
      for (let attempt = 0; attempt < 100 && health.status !== 200; attempt++) {
        const response = await fetch(`${gatewayUrl}/health`);
        health = { status: response.status, body: (await response.json()) as typeof health.body };
        if (health.status !== 200) await new Promise((r) => setTimeout(r, 200));
      }
      expect(health.status).toBe(200);
      expect(Object.values(health.body.parts ?? {}).every((part) => part.ok)).toBe(true);

      // Dev mode: a token printed once, written 0600 to the data directory; no request without it.
      const tokens = [...printed.matchAll(/dev token:\s+(\S+)/g)].map((m) => m[1]);
      expect(tokens).toHaveLength(1);
      const tokenFile = path.join(dataDir, 'dev-token');
      expect(readFileSync(tokenFile, 'utf8').trim()).toBe(tokens[0]);
      expect(statSync(tokenFile).mode & 0o777).toBe(0o600);
      expect((await fetch(`${gatewayUrl}/injections`)).status).toBe(401);
      expect((await fetch(`${gatewayUrl}/injections`, { headers: { Authorization: `Bearer ${tokens[0]}` } })).status).toBe(200);
      expect(printed).not.toMatch(/accepts every request/);

      const ui = await fetch(`http://127.0.0.1:${uiPort}/`);
      expect(ui.status).toBe(200);
      expect(processesMentioning(dataDir).length).toBeGreaterThan(0);

      const exited = new Promise<string>((resolve) => child.once('exit', (code, signal) => resolve(signal ?? `code ${code}`)));
      process.kill(-child.pid!, 'SIGINT');
      let timer: NodeJS.Timeout | undefined;
      const code = await Promise.race([exited, new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), STOP_TIMEOUT_MS)))]);
      clearTimeout(timer);
      // npm itself dies of the SIGINT as in a terminal; node drains and exits 0 behind it.
      expect(['code 0', 'SIGINT']).toContain(code);

      // The injector drains its workers and stops the dev server; after that nothing that ran for this data
      // directory may be left.
      const deadline = Date.now() + STOP_TIMEOUT_MS;
      while (processesMentioning(dataDir).length > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      expect(processesMentioning(dataDir)).toEqual([]);
    } finally {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // already gone, as it should be
      }
      for (const pid of processesMentioning(dataDir)) process.kill(pid, 'SIGKILL');
    }
  }, START_TIMEOUT_MS + STOP_TIMEOUT_MS + 20_000);
  it('starts again after the injector was SIGKILLed: the dev server it left holding the ports is stopped first', async () => {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'openclaw-restart-'));
    const ports = { gatewayPort: await freePort(), devPort: await freePort(), uiPort: await freePort() };
    const first = spawnStart(dataDir, ports);
    let second: ChildProcess | undefined;
    try {
      await waitForOutput(first, /gateway:\s+(http:\/\/\S+)/, START_TIMEOUT_MS);
      const [orphan] = processesOf(dataDir, 'start-dev');
      // The node process itself, not the `sh -c` npm runs it under (both name start.js).
      const [injector] = processesOf(dataDir, 'dist/src/start.js').filter((pid) => path.basename(readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')[0]) === 'node');
      expect([typeof orphan, typeof injector]).toEqual(['number', 'number']);
      // Killed outright: no exit handler runs, so the dev server (its own process group) outlives it.
      const firstExited = new Promise((resolve) => first.once('exit', resolve));
      process.kill(injector, 'SIGKILL');
      await firstExited;
      expect(processesOf(dataDir, 'start-dev')).toEqual([orphan]);

      second = spawnStart(dataDir, ports);
      const gatewayUrl = await waitForOutput(second, /gateway:\s+(http:\/\/\S+)/, START_TIMEOUT_MS);
      expect(printed).toContain('stopped the dev server an earlier npm start left running');
      const servers = processesOf(dataDir, 'start-dev');
      expect(servers).toHaveLength(1);
      expect(servers).not.toContain(orphan);
      expect((await fetch(`${gatewayUrl}/livez`)).status).toBe(200);
    } finally {
      for (const child of [first, second]) {
        try {
          if (child?.pid) process.kill(-child.pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
      for (const pid of processesMentioning(dataDir)) process.kill(pid, 'SIGKILL');
    }
  }, 2 * START_TIMEOUT_MS + 20_000);
});
