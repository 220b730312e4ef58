// Starts and removes labelled reference-agent containers: used by `npm run swarm:up|down`, the tests and the benchmark.
import { randomBytes } from 'node:crypto';
import { chown, mkdir } from 'node:fs/promises';
import path from 'node:path';
import Docker from 'dockerode';
import { AGENT_NAME_PATTERN, LABEL_AGENT_ID, LABEL_GROUP, LABEL_ROLE, LABEL_ROLE_AGENT, LOGS_DIR, PROGRAMS_DIR } from '../agent/protocol';
import { AGENT_FILE_OWNER, classifyDockerError, DockerConnectionOptions, dockerodeFor } from './dockerode-adapter';
import { canonicalAgentContainerName } from './agent-identity';
import { LABEL_RUNTIME } from './drivers/runtime-driver';
import { DockerAdapterError } from './errors';

export const AGENT_IMAGE = 'openclaw/agent:local';
/** Memory limit per agent container; the reference agent idles well under it (see README). */
export const AGENT_MEMORY_LIMIT_BYTES = 128 * 1024 * 1024;
export const AGENT_PIDS_LIMIT = 64;
export const MAX_SWARM_COUNT = 2_000;
/** Containers created at once while starting a swarm. */
export const SWARM_START_CONCURRENCY = 8;
/** The label that marks containers the swarm tooling made, so `down` never touches anything else. */
export const LABEL_SWARM = 'openclaw.swarm';

export interface SwarmUpOptions {
  count: number;
  group?: string;
  /** Agent ids are `<prefix>-<n>`, n from 1; container names `openclaw-agent-<prefix>-<n>`. */
  prefix: string;
  /** OPENCLAW_TRUSTED_KEYS for every agent: `kid:base64` public keys (agentTrustedKeysText). Never a private key. */
  trustedKeys: string;
  image?: string;
  memoryBytes?: number;
  extraLabels?: Record<string, string>;
  extraEnv?: Record<string, string>;
  /**
   * Host-path transfer mode: each agent's /app/injected-programs and /app/logs become bind mounts of
   * `<hostDataDir>/<agentId>/programs` and `.../logs`, owned by the agent's user, so a worker on this host can read
   * and write them directly (OPENCLAW_HOST_PATH_ROOT). The caller removes the directory after `down`.
   */
  hostDataDir?: string;
  /**
   * Give each agent Docker's exec HEALTHCHECK (AGENT_HEALTHCHECK), for operators who want `docker ps` to say
   * healthy. Off by default: every check is a process exec in the container, about 40 ms of CPU (BENCHMARKS.md, idle
   * agents), while the agent's heartbeat file says the same to whoever reads it (`npm run swarm:status`).
   */
  healthcheck?: boolean;
}

/** Nanoseconds, as the Engine API wants them. */
const SECOND_NS = 1_000_000_000;
/** The opt-in HEALTHCHECK: exec form (the image has no shell), healthy while the heartbeat is under 15 s old. */
export const AGENT_HEALTHCHECK = {
  Test: ['CMD', 'node', '/app/runtime/src/agent/healthcheck.js'],
  Interval: 15 * SECOND_NS,
  Timeout: 5 * SECOND_NS,
  StartPeriod: 5 * SECOND_NS,
  Retries: 3,
};

export interface StartedAgent {
  agentId: string;
  containerId: string;
  containerName: string;
}

export interface SwarmManager {
  up(options: SwarmUpOptions): Promise<StartedAgent[]>;
  /** Removes (forcibly) swarm-made agent containers: all, or those whose labels match every given label. */
  down(match?: Record<string, string>): Promise<number>;
}

/** Maps items with at most `concurrency` calls in flight (a sliding window); results keep the input order. */
export async function mapConcurrent<T, R>(items: T[], concurrency: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await fn(items[index]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
  return results;
}

/** Makes an agent's programs and logs directories on the host, owned by the agent's user; returns the bind specs. */
async function agentHostDirs(hostDataDir: string, agentId: string): Promise<string[]> {
  const binds: string[] = [];
  for (const [name, target] of [['programs', PROGRAMS_DIR], ['logs', LOGS_DIR]] as const) {
    const dir = path.join(path.resolve(hostDataDir), agentId, name);
    await mkdir(dir, { recursive: true, mode: 0o755 });
    if (process.getuid?.() === 0) await chown(dir, AGENT_FILE_OWNER.uid, AGENT_FILE_OWNER.gid);
    binds.push(`${dir}:${target}`);
  }
  return binds;
}

export function createSwarmManager(connection: DockerConnectionOptions): SwarmManager {
  const docker: Docker = dockerodeFor(connection);

  return {
    async up(options) {
      if (!Number.isInteger(options.count) || options.count < 1 || options.count > MAX_SWARM_COUNT) {
        throw new DockerAdapterError('INVALID_ARGUMENT', `count must be an integer from 1 to ${MAX_SWARM_COUNT}`);
      }
      if (options.group !== undefined && !AGENT_NAME_PATTERN.test(options.group)) {
        throw new DockerAdapterError('INVALID_ARGUMENT', `group ${JSON.stringify(options.group)} must match ${AGENT_NAME_PATTERN}`);
      }
      const ids = Array.from({ length: options.count }, (_, i) => `${options.prefix}-${i + 1}`);
      const bad = ids.find((id) => !AGENT_NAME_PATTERN.test(id));
      if (bad) throw new DockerAdapterError('INVALID_ARGUMENT', `agent id ${JSON.stringify(bad)} must match ${AGENT_NAME_PATTERN}: shorten the prefix`);
      return mapConcurrent(ids, SWARM_START_CONCURRENCY, async (agentId) => {
        const containerName = canonicalAgentContainerName(agentId);
        try {
          const binds = options.hostDataDir ? await agentHostDirs(options.hostDataDir, agentId) : undefined;
          const container = await docker.createContainer({
            name: containerName,
            Image: options.image ?? AGENT_IMAGE,
            Labels: {
              ...options.extraLabels,
              [LABEL_SWARM]: '1',
              [LABEL_ROLE]: LABEL_ROLE_AGENT,
              [LABEL_AGENT_ID]: agentId,
              ...(options.group ? { [LABEL_GROUP]: options.group } : {}),
            },
            Env: Object.entries({
              ...options.extraEnv,
              OPENCLAW_TRUSTED_KEYS: options.trustedKeys,
              OPENCLAW_AGENT_ID: agentId,
              ...(options.group ? { OPENCLAW_AGENT_GROUP: options.group } : {}),
            }).map(([k, v]) => `${k}=${v}`),
            ...(options.healthcheck ? { Healthcheck: AGENT_HEALTHCHECK } : {}),
            HostConfig: {
              Memory: options.memoryBytes ?? AGENT_MEMORY_LIMIT_BYTES,
              MemorySwap: options.memoryBytes ?? AGENT_MEMORY_LIMIT_BYTES,
              PidsLimit: AGENT_PIDS_LIMIT,
              NetworkMode: 'none',
              ReadonlyRootfs: false,
              RestartPolicy: { Name: 'no' },
              ...(binds ? { Binds: binds } : {}),
            },
          });
          await container.start();
          return { agentId, containerId: container.id, containerName };
        } catch (err) {
          throw classifyDockerError(err, `start agent ${agentId}`);
        }
      });
    },

    async down(match = {}) {
      const labels = [`${LABEL_SWARM}=1`, `${LABEL_ROLE}=${LABEL_ROLE_AGENT}`, ...Object.entries(match).map(([k, v]) => `${k}=${v}`)];
      let summaries: Docker.ContainerInfo[];
      try {
        summaries = await docker.listContainers({ all: true, filters: { label: labels } });
      } catch (err) {
        throw classifyDockerError(err, 'list swarm containers');
      }
      await mapConcurrent(summaries, SWARM_START_CONCURRENCY, async (summary) => {
        try {
          await docker.getContainer(summary.Id).remove({ force: true, v: true });
        } catch (err) {
          const classified = classifyDockerError(err, `remove ${summary.Id}`, summary.Id);
          if (classified.code !== 'CONTAINER_NOT_FOUND') throw classified;
        }
      });
      return summaries.length;
    },
  };
}

/** The offline OpenClaw gateway image (scripts/build-openclaw-image.sh). */
export const OPENCLAW_AGENT_IMAGE = 'openclaw/openclaw-agent:local';
/** A gateway uses about 0.7-0.9 GB once ready; the limit leaves room for one skills.status CLI call beside it. */
export const OPENCLAW_MEMORY_LIMIT_BYTES = 1536 * 1024 * 1024;
/** The gateway runs about 30 processes and threads; the CLI calls of a verification add their own. */
export const OPENCLAW_PIDS_LIMIT = 256;
export const OPENCLAW_TOKEN_BYTES = 32;

export interface OpenClawSwarmUpOptions {
  count: number;
  group?: string;
  /** Agent ids are `<prefix>-<n>`, n from 1; container names `openclaw-agent-<prefix>-<n>`. */
  prefix: string;
  image?: string;
  memoryBytes?: number;
  extraLabels?: Record<string, string>;
}

export interface StartedGateway extends StartedAgent {
  /** The gateway's own token (OPENCLAW_GATEWAY_TOKEN in its environment), different for every container. */
  token: string;
}

/**
 * Starts labelled OpenClaw gateway containers (dreamnet.runtime=openclaw), each with its own gateway token, on no
 * network: the gateway binds loopback and the injector reaches it through Docker exec. `down` removes them like any
 * swarm agent.
 */
export async function startOpenClawGateways(connection: DockerConnectionOptions, options: OpenClawSwarmUpOptions): Promise<StartedGateway[]> {
  const docker: Docker = dockerodeFor(connection);
  if (!Number.isInteger(options.count) || options.count < 1 || options.count > MAX_SWARM_COUNT) {
    throw new DockerAdapterError('INVALID_ARGUMENT', `count must be an integer from 1 to ${MAX_SWARM_COUNT}`);
  }
  if (options.group !== undefined && !AGENT_NAME_PATTERN.test(options.group)) {
    throw new DockerAdapterError('INVALID_ARGUMENT', `group ${JSON.stringify(options.group)} must match ${AGENT_NAME_PATTERN}`);
  }
  const ids = Array.from({ length: options.count }, (_, i) => `${options.prefix}-${i + 1}`);
  const bad = ids.find((id) => !AGENT_NAME_PATTERN.test(id));
  if (bad) throw new DockerAdapterError('INVALID_ARGUMENT', `agent id ${JSON.stringify(bad)} must match ${AGENT_NAME_PATTERN}: shorten the prefix`);
  const memory = options.memoryBytes ?? OPENCLAW_MEMORY_LIMIT_BYTES;
  return mapConcurrent(ids, SWARM_START_CONCURRENCY, async (agentId) => {
    const containerName = canonicalAgentContainerName(agentId);
    const token = randomBytes(OPENCLAW_TOKEN_BYTES).toString('hex');
    try {
      const container = await docker.createContainer({
        name: containerName,
        Image: options.image ?? OPENCLAW_AGENT_IMAGE,
        Labels: {
          ...options.extraLabels,
          [LABEL_SWARM]: '1',
          [LABEL_ROLE]: LABEL_ROLE_AGENT,
          [LABEL_AGENT_ID]: agentId,
          [LABEL_RUNTIME]: 'openclaw',
          ...(options.group ? { [LABEL_GROUP]: options.group } : {}),
        },
        Env: [`OPENCLAW_GATEWAY_TOKEN=${token}`, `OPENCLAW_AGENT_ID=${agentId}`, ...(options.group ? [`OPENCLAW_AGENT_GROUP=${options.group}`] : [])],
        HostConfig: {
          Memory: memory,
          MemorySwap: memory,
          PidsLimit: OPENCLAW_PIDS_LIMIT,
          NetworkMode: 'none',
          RestartPolicy: { Name: 'no' },
        },
      });
      await container.start();
      return { agentId, containerId: container.id, containerName, token };
    } catch (err) {
      throw classifyDockerError(err, `start OpenClaw gateway ${agentId}`);
    }
  });
}
