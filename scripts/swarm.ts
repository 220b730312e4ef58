// `npm run swarm:up -- --count N [--group G] [--prefix P] [--runtime reference|openclaw] [--healthcheck]`,
// `npm run swarm:status [-- --group G]` and `npm run swarm:down [-- --group G]`: a local swarm of reference agents, or
// of OpenClaw gateways, and their health read from each agent's heartbeat.
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { LABEL_GROUP } from '../src/agent/protocol';
import { loadConfigOrExit } from '../src/config';
import { createDockerAdapter } from '../src/docker';
import { readAgentHealth } from '../src/docker/agent-health';
import { createSwarmManager, mapConcurrent, MAX_SWARM_COUNT, startOpenClawGateways, SWARM_START_CONCURRENCY } from '../src/docker/agent-swarm';
import { AGENT_RUNTIME_KINDS, AgentRuntimeKind } from '../src/docker/drivers/runtime-driver';
import { DockerAdapterError, isDockerAdapterError } from '../src/docker/errors';
import { agentTrustedKeysText, loadSigningKeys } from '../src/shared/signing-key';

const PROJECT_ROOT = path.resolve(__dirname, '..', '..', '..');
const USAGE = 'usage: swarm up --count N [--group G] [--prefix P] [--runtime reference|openclaw] [--healthcheck] | swarm status [--group G] | swarm down [--group G]';
/** How long `swarm up|down` waits for the engine's first answer before saying that none answers. */
const ENGINE_PING_TIMEOUT_MS = 5_000;
/** Exit codes: a usage error or no Docker engine (the user must act), anything else. */
const EXIT_USER_ACTION = 2;
const EXIT_FAILED = 1;

interface SwarmArgs {
  command: 'up' | 'status' | 'down';
  /** Docker's exec HEALTHCHECK on each agent (off by default: it costs CPU in every container; see agent-swarm.ts). */
  healthcheck?: boolean;
  count?: number;
  group?: string;
  prefix?: string;
  runtime?: AgentRuntimeKind;
}

class UsageError extends Error {
  constructor(message: string) {
    super(`${message}\n${USAGE}`);
    this.name = 'UsageError';
  }
}

/** No Docker engine answers at the configured address: said in one line, without a stack trace. */
class NoEngineError extends Error {
  readonly code = 'DOCKER_UNAVAILABLE';

  constructor(dockerHost: string, fromEnvironment: boolean, cause: DockerAdapterError) {
    super(
      `no Docker engine answers at DOCKER_HOST=${dockerHost}${fromEnvironment ? '' : ' (the default)'}: ${cause.message}. ` +
        'Start Docker (as root on Debian, `npm run provision` starts one), or point DOCKER_HOST at a running engine.',
      { cause },
    );
    this.name = 'NoEngineError';
  }
}

/** build-agent-image.sh failed; it has already said why on stderr. */
class ImageBuildError extends Error {
  constructor(cause: unknown) {
    const status = (cause as { status?: unknown }).status;
    super(`building the agent image failed (scripts/build-agent-image.sh exited with ${typeof status === 'number' ? status : 'an error'}); its output is above`, { cause });
    this.name = 'ImageBuildError';
  }
}

export function parseSwarmArgs(argv: string[]): SwarmArgs {
  const [command, ...rest] = argv;
  if (command !== 'up' && command !== 'status' && command !== 'down') throw new UsageError(`unknown command ${JSON.stringify(command ?? '')}`);
  const args: SwarmArgs = { command };
  for (let i = 0; i < rest.length; i += 2) {
    const flag = rest[i];
    if (flag === '--healthcheck' && command === 'up') {
      args.healthcheck = true;
      i -= 1;
      continue;
    }
    const value = rest[i + 1];
    if (value === undefined) throw new UsageError(`${flag} needs a value`);
    if (flag === '--count' && command === 'up') {
      const count = Number(value);
      if (!/^\d+$/.test(value) || count < 1 || count > MAX_SWARM_COUNT) throw new UsageError(`--count must be from 1 to ${MAX_SWARM_COUNT}`);
      args.count = count;
    } else if (flag === '--group') args.group = value;
    else if (flag === '--prefix' && command === 'up') args.prefix = value;
    else if (flag === '--runtime' && command === 'up') {
      if (!(AGENT_RUNTIME_KINDS as readonly string[]).includes(value)) throw new UsageError(`--runtime must be one of ${AGENT_RUNTIME_KINDS.join(', ')}`);
      args.runtime = value as AgentRuntimeKind;
    }
    else throw new UsageError(`unknown option ${flag}`);
  }
  if (command === 'up' && args.count === undefined) throw new UsageError('--count is required');
  return args;
}

async function run(): Promise<void> {
  const args = parseSwarmArgs(process.argv.slice(2));
  const config = loadConfigOrExit();
  const connection = { dockerHost: config.dockerHost, tlsVerify: config.dockerTlsVerify, certPath: config.dockerCertPath };
  try {
    await createDockerAdapter({ ...connection, callTimeoutMs: ENGINE_PING_TIMEOUT_MS }).ping();
  } catch (err) {
    if (isDockerAdapterError(err, 'DOCKER_UNAVAILABLE') || isDockerAdapterError(err, 'DOCKER_TIMEOUT')) {
      throw new NoEngineError(config.dockerHost, Boolean(process.env.DOCKER_HOST), err);
    }
    throw err;
  }
  const swarm = createSwarmManager(connection);
  if (args.command === 'down') {
    const removed = await swarm.down(args.group ? { [LABEL_GROUP]: args.group } : {});
    console.log(`removed ${removed} agent container(s)${args.group ? ` of group ${args.group}` : ''}`);
    return;
  }
  if (args.command === 'status') return status(args, createDockerAdapter(connection));
  if (args.runtime === 'openclaw') return upOpenClaw(args, config);
  try {
    execFileSync('bash', [path.join(PROJECT_ROOT, 'scripts', 'build-agent-image.sh')], { stdio: ['ignore', 'ignore', 'inherit'] });
  } catch (err) {
    throw new ImageBuildError(err);
  }
  // Agents get public keys only: OPENCLAW_TRUSTED_KEYS when set, else the public half of the workers' (dev) key.
  const keys = config.trustedKeys.size > 0 && !config.signingKey && !config.signingKeyFile ? { trustedKeys: config.trustedKeys, source: 'OPENCLAW_TRUSTED_KEYS', file: undefined } : loadSigningKeys(config);
  const started = await swarm.up({ count: args.count ?? 1, group: args.group, prefix: args.prefix ?? args.group ?? 'agent', trustedKeys: agentTrustedKeysText(keys), healthcheck: args.healthcheck });
  for (const agent of started) console.log(`${agent.agentId}\t${agent.containerName}\t${agent.containerId.slice(0, 12)}`);
  console.log(`started ${started.length} agent(s)${args.group ? ` in group ${args.group}` : ''}; trusted keys ${[...keys.trustedKeys.keys()].join(', ')} from ${keys.source}${keys.file ? ` (${keys.file})` : ''}`);
}

/** Each agent's state and heartbeat age: one archive read per running agent, now, instead of an exec every 15 s. */
async function status(args: SwarmArgs, adapter: ReturnType<typeof createDockerAdapter>): Promise<void> {
  const agents = await adapter.listAgents(args.group ? { group: args.group } : {});
  const rows = await mapConcurrent(agents, SWARM_START_CONCURRENCY, (agent) => readAgentHealth(adapter, agent));
  for (const row of rows) {
    const heartbeat = row.heartbeatAgeMs === null ? 'no heartbeat' : `heartbeat ${(row.heartbeatAgeMs / 1000).toFixed(1)} s ago`;
    console.log(`${row.agentId}\t${row.containerName}\t${row.running ? 'running' : 'stopped'}\t${row.healthy ? 'healthy' : 'unhealthy'}\t${heartbeat}`);
  }
  const healthy = rows.filter((r) => r.healthy).length;
  console.log(`${rows.length} agent(s)${args.group ? ` in group ${args.group}` : ''}: ${healthy} healthy, ${rows.length - healthy} not`);
  if (healthy < rows.length) process.exitCode = EXIT_FAILED;
}

/** OpenClaw gateways: their own image, their own token each; no signing key (OpenClaw does not check our signature). */
async function upOpenClaw(args: SwarmArgs, config: ReturnType<typeof loadConfigOrExit>): Promise<void> {
  const image = execFileSync('bash', [path.join(PROJECT_ROOT, 'scripts', 'build-openclaw-image.sh')], { stdio: ['ignore', 'pipe', 'inherit'] }).toString().trim().split('\n').pop();
  const connection = { dockerHost: config.dockerHost, tlsVerify: config.dockerTlsVerify, certPath: config.dockerCertPath };
  const started = await startOpenClawGateways(connection, { count: args.count ?? 1, group: args.group, prefix: args.prefix ?? args.group ?? 'openclaw', image });
  for (const gateway of started) console.log(`${gateway.agentId}\t${gateway.containerName}\t${gateway.containerId.slice(0, 12)}`);
  console.log(`started ${started.length} OpenClaw gateway(s)${args.group ? ` in group ${args.group}` : ''} from ${image}, each with its own token (OPENCLAW_GATEWAY_TOKEN in its environment)`);
}

run().catch((err: unknown) => {
  const expected = err instanceof UsageError || err instanceof NoEngineError || err instanceof ImageBuildError || err instanceof DockerAdapterError;
  const message = expected ? err.message : err instanceof Error ? err.stack ?? err.message : String(err);
  console.error(`swarm: ${message}`);
  process.exit(err instanceof UsageError || err instanceof NoEngineError ? EXIT_USER_ACTION : EXIT_FAILED);
});
