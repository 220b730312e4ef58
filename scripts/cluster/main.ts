// `npm run cluster -- up | down | status`: a real Temporal cluster on this machine (docs/operations.md, "A real cluster").
import { ensureCertificates } from './certs';
import { existsSync, readFileSync } from 'node:fs';
import { clusterPaths, ClusterSettingsError, loadClusterSettings, WORKER_DEPLOYMENT_NAME } from './settings';
import { down, status, up, upgrade } from './cluster';
import { findPostgresBinaries } from './postgres';
import { ensureTemporalBinaries } from './temporal';

const USAGE = 'usage: npm run cluster -- up [--no-injector] | down | status | certs | build | upgrade <build-id> [--drain-timeout-s <seconds>]';
const MAX_DRAIN_TIMEOUT_S = 24 * 3600;

function log(line: string): void {
  console.log(`[cluster] ${line}`);
}

async function main(argv: string[]): Promise<number> {
  const [command, ...flags] = argv;
  const settings = loadClusterSettings();
  const started = Date.now();
  switch (command) {
    case 'up': {
      const unknown = flags.filter((f) => f !== '--no-injector');
      if (unknown.length > 0) throw new ClusterSettingsError(`unknown option ${unknown[0]}\n${USAGE}`);
      await up(settings, log, { injector: !flags.includes('--no-injector') });
      log(`took ${((Date.now() - started) / 1000).toFixed(1)} s`);
      return 0;
    }
    case 'upgrade': {
      const [buildId, ...rest] = flags;
      if (!buildId || buildId.startsWith('--')) throw new ClusterSettingsError(`upgrade needs the new build id\n${USAGE}`);
      let drainTimeoutMs: number | undefined;
      if (rest.length > 0) {
        const seconds = Number(rest[1]);
        if (rest[0] !== '--drain-timeout-s' || rest.length !== 2 || !Number.isInteger(seconds) || seconds < 1 || seconds > MAX_DRAIN_TIMEOUT_S) {
          throw new ClusterSettingsError(`upgrade: expected --drain-timeout-s <1..${MAX_DRAIN_TIMEOUT_S}>\n${USAGE}`);
        }
        drainTimeoutMs = seconds * 1000;
      }
      await upgrade(settings, log, buildId, { drainTimeoutMs });
      log(`took ${((Date.now() - started) / 1000).toFixed(1)} s`);
      return 0;
    }
    case 'down':
      await down(settings, log);
      return 0;
    case 'status': {
      const lines = await status(settings);
      const width = Math.max(...lines.map((l) => l.name.length));
      for (const line of lines) console.log(`${line.name.padEnd(width)}  ${line.pid === undefined ? 'stopped' : `running (pid ${line.pid})`.padEnd(20)}  ${line.address}`);
      const buildIdFile = clusterPaths(settings).buildIdFile;
      if (existsSync(buildIdFile)) console.log(`workers: Worker Deployment ${WORKER_DEPLOYMENT_NAME}, build ${readFileSync(buildIdFile, 'utf8').trim()}`);
      console.log(`state: ${settings.stateDir}`);
      return lines.every((l) => l.pid !== undefined) ? 0 : 3;
    }
    case 'build': {
      // The pinned binaries and PostgreSQL alone, nothing started (CI builds them while the main suite runs).
      const built = await ensureTemporalBinaries(settings, clusterPaths(settings), log);
      log(built.length > 0 ? `built ${built.join(', ')}` : `binaries in ${settings.toolsDir} are in place`);
      log(`PostgreSQL: ${await findPostgresBinaries(log)}`);
      log(`took ${((Date.now() - started) / 1000).toFixed(1)} s`);
      return 0;
    }
    case 'certs': {
      // The certificates alone (what docker-compose.temporal.yml mounts); `up` makes them too.
      const certsDir = clusterPaths(settings).certsDir;
      const made = await ensureCertificates(certsDir);
      log(made.length > 0 ? `made ${made.join(', ')} in ${certsDir}` : `certificates in ${certsDir} are valid for more than their renewal window`);
      return 0;
    }
    default:
      console.error(USAGE);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`[cluster] error: ${err instanceof Error ? err.message : String(err)}`);
    if (err instanceof Error && err.cause instanceof Error && !err.message.includes(err.cause.message)) console.error(`[cluster] cause: ${err.cause.message}`);
    process.exit(1);
  },
);
