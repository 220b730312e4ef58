// The cluster's own PostgreSQL instance: its own data folder, port and socket folder, run with pg_ctl as the
// postgres user when we are root; never the system service. Installed from Debian's packages when missing.
import { appendFileSync, chownSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ClusterProcessError, run } from './processes';

export const POSTGRES_USER = 'temporal';
const PG_CTL_TIMEOUT_S = 60;
const COMMAND_TIMEOUT_MS = (PG_CTL_TIMEOUT_S + 30) * 1_000;
const APT_TIMEOUT_MS = 10 * 60_000;
const PG_LIB = '/usr/lib/postgresql';

export interface PostgresInstance {
  binDir: string;
  dataDir: string;
  socketDir: string;
  port: number;
  logFile: string;
}

const isRoot = () => process.getuid?.() === 0;

/** The newest PostgreSQL under /usr/lib/postgresql, installing Debian's `postgresql` when there is none. */
export async function findPostgresBinaries(log: (line: string) => void): Promise<string> {
  const newest = () => {
    if (!existsSync(PG_LIB)) return undefined;
    const versions = readdirSync(PG_LIB).filter((v) => /^\d+$/.test(v) && existsSync(path.join(PG_LIB, v, 'bin', 'pg_ctl')));
    versions.sort((a, b) => Number(b) - Number(a));
    return versions.length > 0 ? path.join(PG_LIB, versions[0], 'bin') : undefined;
  };
  const found = newest();
  if (found) return found;
  if (!isRoot() || !existsSync('/usr/bin/apt-get')) throw new ClusterProcessError('START_FAILED', 'PostgreSQL is not installed: install it (Debian: apt-get install postgresql) and run this again');
  log("installing PostgreSQL from Debian's packages (apt-get install postgresql)");
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  await run('apt-get', ['update', '-qq'], { env, timeoutMs: APT_TIMEOUT_MS });
  await run('apt-get', ['install', '-y', '-qq', 'postgresql'], { env, timeoutMs: APT_TIMEOUT_MS });
  const installed = newest();
  if (!installed) throw new ClusterProcessError('START_FAILED', 'apt-get install postgresql left no pg_ctl under /usr/lib/postgresql');
  return installed;
}

/** Runs a PostgreSQL binary as the postgres user (root) or as ourselves. */
function asPostgres(instance: Pick<PostgresInstance, 'binDir'>, binary: string, args: string[]): Promise<string> {
  const file = path.join(instance.binDir, binary);
  return isRoot() ? run('runuser', ['-u', 'postgres', '--', file, ...args], { timeoutMs: COMMAND_TIMEOUT_MS }) : run(file, args, { timeoutMs: COMMAND_TIMEOUT_MS });
}

/** Creates the data folder on first use (superuser `temporal`, password auth on TCP, 127.0.0.1 only). */
export async function initPostgres(instance: PostgresInstance, password: string, postgresDir: string): Promise<boolean> {
  if (existsSync(path.join(instance.dataDir, 'PG_VERSION'))) return false;
  mkdirSync(instance.dataDir, { recursive: true, mode: 0o700 });
  mkdirSync(instance.socketDir, { recursive: true });
  const pwfile = path.join(postgresDir, '.initdb-password');
  writeFileSync(pwfile, `${password}\n`, { mode: 0o600 });
  if (isRoot()) {
    const { uid, gid } = await postgresIds();
    for (const p of [postgresDir, instance.dataDir, instance.socketDir, pwfile]) chownSync(p, uid, gid);
  }
  try {
    await asPostgres(instance, 'initdb', ['--pgdata', instance.dataDir, '--username', POSTGRES_USER, `--pwfile=${pwfile}`, '--auth-host=scram-sha-256', '--auth-local=peer', '--encoding=UTF8', '--no-instructions']);
  } finally {
    rmSync(pwfile, { force: true });
  }
  appendFileSync(
    path.join(instance.dataDir, 'postgresql.conf'),
    [
      '',
      '# OpenClaw cluster (scripts/cluster): its own port and socket folder, loopback only.',
      `port = ${instance.port}`,
      "listen_addresses = '127.0.0.1'",
      `unix_socket_directories = '${instance.socketDir}'`,
      'max_connections = 200',
      '',
    ].join('\n'),
  );
  return true;
}

async function postgresIds(): Promise<{ uid: number; gid: number }> {
  const [uid, gid] = await Promise.all([run('id', ['-u', 'postgres'], { timeoutMs: 5_000 }), run('id', ['-g', 'postgres'], { timeoutMs: 5_000 })]);
  return { uid: Number(uid.trim()), gid: Number(gid.trim()) };
}

export async function postgresRunning(instance: PostgresInstance): Promise<boolean> {
  if (!existsSync(path.join(instance.dataDir, 'PG_VERSION'))) return false;
  return asPostgres(instance, 'pg_ctl', ['status', '--pgdata', instance.dataDir]).then(
    () => true,
    () => false,
  );
}

/** pg_ctl start: the postmaster runs in its own session and writes its own pid file (postmaster.pid). */
export async function startPostgres(instance: PostgresInstance): Promise<void> {
  if (isRoot()) {
    const { uid, gid } = await postgresIds();
    if (!existsSync(instance.logFile)) writeFileSync(instance.logFile, '');
    chownSync(instance.logFile, uid, gid);
  }
  await asPostgres(instance, 'pg_ctl', ['start', '--pgdata', instance.dataDir, '--log', instance.logFile, '--wait', '--timeout', String(PG_CTL_TIMEOUT_S)]);
}

/** `fast`: roll back open transactions and shut down cleanly; `immediate`: quit at once, recovering at the next start (a crash). */
export async function stopPostgres(instance: PostgresInstance, mode: 'fast' | 'immediate' = 'fast'): Promise<boolean> {
  if (!(await postgresRunning(instance))) return false;
  await asPostgres(instance, 'pg_ctl', ['stop', '--pgdata', instance.dataDir, '--mode', mode, '--wait', '--timeout', String(PG_CTL_TIMEOUT_S)]);
  return true;
}

/** The postmaster's pid, from the first line of postmaster.pid, for status. */
export function postgresPid(instance: PostgresInstance): number | undefined {
  try {
    const first = readFileSync(path.join(instance.dataDir, 'postmaster.pid'), 'utf8').split('\n')[0];
    return Number(first) || undefined;
  } catch {
    return undefined;
  }
}
