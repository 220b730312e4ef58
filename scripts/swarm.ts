// `npm run swarm:up -- --count N [--group G] [--prefix P]` and `npm run swarm:down [-- --group G]`: a local swarm of reference agents.
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { LABEL_GROUP } from '../src/agent/protocol';
import { loadConfigOrExit } from '../src/config';
import { createSwarmManager, MAX_SWARM_COUNT } from '../src/docker/agent-swarm';
import { DockerAdapterError } from '../src/docker/errors';
import { agentTrustedKeysText, loadSigningKeys } from '../src/shared/signing-key';

const PROJECT_ROOT = path.resolve(__dirname, '..', '..', '..');
const USAGE = 'usage: swarm up --count N [--group G] [--prefix P] | swarm down [--group G]';

interface SwarmArgs {
  command: 'up' | 'down';
  count?: number;
  group?: string;
  prefix?: string;
}

class UsageError extends Error {
  constructor(message: string) {
    super(`${message}\n${USAGE}`);
    this.name = 'UsageError';
  }
}

export function parseSwarmArgs(argv: string[]): SwarmArgs {
  const [command, ...rest] = argv;
  if (command !== 'up' && command !== 'down') throw new UsageError(`unknown command ${JSON.stringify(command ?? '')}`);
  const args: SwarmArgs = { command };
  for (let i = 0; i < rest.length; i += 2) {
    const flag = rest[i];
    const value = rest[i + 1];
    if (value === undefined) throw new UsageError(`${flag} needs a value`);
    if (flag === '--count' && command === 'up') {
      const count = Number(value);
      if (!/^\d+$/.test(value) || count < 1 || count > MAX_SWARM_COUNT) throw new UsageError(`--count must be from 1 to ${MAX_SWARM_COUNT}`);
      args.count = count;
    } else if (flag === '--group') args.group = value;
    else if (flag === '--prefix' && command === 'up') args.prefix = value;
    else throw new UsageError(`unknown option ${flag}`);
  }
  if (command === 'up' && args.count === undefined) throw new UsageError('--count is required');
  return args;
}

async function run(): Promise<void> {
  const args = parseSwarmArgs(process.argv.slice(2));
  const config = loadConfigOrExit();
  const swarm = createSwarmManager({ dockerHost: config.dockerHost, tlsVerify: config.dockerTlsVerify, certPath: config.dockerCertPath });
  if (args.command === 'down') {
    const removed = await swarm.down(args.group ? { [LABEL_GROUP]: args.group } : {});
    console.log(`removed ${removed} agent container(s)${args.group ? ` of group ${args.group}` : ''}`);
    return;
  }
  execFileSync('bash', [path.join(PROJECT_ROOT, 'scripts', 'build-agent-image.sh')], { stdio: ['ignore', 'ignore', 'inherit'] });
  // Agents get public keys only: OPENCLAW_TRUSTED_KEYS when set, else the public half of the workers' (dev) key.
  const keys = config.trustedKeys.size > 0 && !config.signingKey && !config.signingKeyFile ? { trustedKeys: config.trustedKeys, source: 'OPENCLAW_TRUSTED_KEYS', file: undefined } : loadSigningKeys(config);
  const started = await swarm.up({ count: args.count ?? 1, group: args.group, prefix: args.prefix ?? args.group ?? 'agent', trustedKeys: agentTrustedKeysText(keys) });
  for (const agent of started) console.log(`${agent.agentId}\t${agent.containerName}\t${agent.containerId.slice(0, 12)}`);
  console.log(`started ${started.length} agent(s)${args.group ? ` in group ${args.group}` : ''}; trusted keys ${[...keys.trustedKeys.keys()].join(', ')} from ${keys.source}${keys.file ? ` (${keys.file})` : ''}`);
}

run().catch((err: unknown) => {
  const message = err instanceof UsageError || err instanceof DockerAdapterError ? err.message : err instanceof Error ? err.stack ?? err.message : String(err);
  console.error(`swarm: ${message}`);
  process.exit(err instanceof UsageError ? 2 : 1);
});
