// A dev server left running by an injector process that died without its exit handlers (SIGKILL, OOM kill): it
// keeps the ports and the SQLite file, so the next `npm start` could not start. Its pid file (next to the database)
// names it and its parent; when that parent is gone and the pid is still a `start-dev` on this database, the next
// start stops it first. A server whose parent still runs is another live injector's: it is left alone.
import { readFileSync, rmSync, writeFileSync } from 'node:fs';

const POLL_MS = 100;

export function devServerPidFile(dbFilename: string): string {
  return `${dbFilename}.server.pid`;
}

interface PidRecord {
  serverPid: number;
  parentPid: number;
}

function readRecord(file: string): PidRecord | null {
  try {
    const value: unknown = JSON.parse(readFileSync(file, 'utf8'));
    if (typeof value !== 'object' || value === null) return null;
    const { serverPid, parentPid } = value as Record<string, unknown>;
    return Number.isSafeInteger(serverPid) && Number.isSafeInteger(parentPid) ? { serverPid: serverPid as number, parentPid: parentPid as number } : null;
  } catch {
    return null;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The process's argv from /proc (Linux); null where it cannot be read. */
function argvOf(pid: number): string[] | null {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
  } catch {
    return null;
  }
}

export function recordDevServer(dbFilename: string, serverPid: number): void {
  writeFileSync(devServerPidFile(dbFilename), JSON.stringify({ serverPid, parentPid: process.pid }), { mode: 0o600 });
}

export function forgetDevServer(dbFilename: string): void {
  rmSync(devServerPidFile(dbFilename), { force: true });
}

/**
 * Stops the orphaned dev server of this database, if there is one; answers its pid, or null when there was none.
 * SIGTERM, then SIGKILL after `stopTimeoutMs`.
 */
export async function stopOrphanedDevServer(dbFilename: string, stopTimeoutMs: number): Promise<number | null> {
  const file = devServerPidFile(dbFilename);
  const record = readRecord(file);
  if (!record) return null;
  const argv = argvOf(record.serverPid);
  const isOurs = argv !== null && argv.includes('start-dev') && argv.includes(dbFilename);
  if (!isOurs || alive(record.parentPid)) {
    if (!isOurs) forgetDevServer(dbFilename);
    return null;
  }
  process.kill(record.serverPid, 'SIGTERM');
  const deadline = Date.now() + stopTimeoutMs;
  while (alive(record.serverPid)) {
    if (Date.now() > deadline) {
      process.kill(record.serverPid, 'SIGKILL');
      break;
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
  forgetDevServer(dbFilename);
  return record.serverPid;
}
