// `npm run cluster -- up | down | status`: a real Temporal cluster on this machine (docs/operations.md, "A real cluster").
import { ensureCertificates } from './certs';
import { clusterPaths, ClusterSettingsError, loadClusterSettings } from './settings';
import { down, status, up } from './cluster';

const USAGE = 'usage: npm run cluster -- up [--no-injector] | down | status | certs';

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
    case 'down':
      await down(settings, log);
      return 0;
    case 'status': {
      const lines = await status(settings);
      const width = Math.max(...lines.map((l) => l.name.length));
      for (const line of lines) console.log(`${line.name.padEnd(width)}  ${line.pid === undefined ? 'stopped' : `running (pid ${line.pid})`.padEnd(20)}  ${line.address}`);
      console.log(`state: ${settings.stateDir}`);
      return lines.every((l) => l.pid !== undefined) ? 0 : 3;
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
