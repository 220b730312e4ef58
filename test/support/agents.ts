// Real agent containers for Docker tests: builds the image when missing, starts a labelled group per test file, removes it after.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { HEARTBEAT_FILE } from '../../src/agent/heartbeat';
import { LABEL_GROUP } from '../../src/agent/protocol';
import { loadConfig } from '../../src/config';
import { createAgentChannel, createDockerAdapter, AgentChannel, AgentRef, DockerAdapter } from '../../src/docker';
import { createSwarmManager, StartedAgent } from '../../src/docker/agent-swarm';
import { formatTrustedKeys, SigningKeyPair } from '../../src/signing/keys';
import { testSigningKey, trustedKeysOf } from './signing';

/** The checkout's root, found upwards from here: this file also runs compiled from dist/ (the benchmark). */
function projectRoot(): string {
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, 'scripts', 'build-agent-image.sh'))) return dir;
    if (path.dirname(dir) === dir) throw new Error(`no scripts/build-agent-image.sh above ${__dirname}`);
  }
}
export const TEST_LABEL = 'openclaw.test';
/** How long a fresh agent may take to write its first heartbeat. */
export const AGENT_READY_TIMEOUT_MS = 30_000;
const READY_POLL_MS = 50;
const IMAGE_BUILD_TIMEOUT_MS = 300_000;

let imageBuild: Promise<string> | null = null;

/**
 * Runs scripts/build-agent-image.sh once per test process (it skips when the content-hash tag exists) and returns that
 * content-hash tag: tests start agents from it, not from the shared `:local` tag, so two checkouts testing at once on
 * one engine never run each other's agent.
 */
export function ensureAgentImage(): Promise<string> {
  const root = projectRoot();
  imageBuild ??= promisify(execFile)('bash', [path.join(root, 'scripts', 'build-agent-image.sh')], {
    cwd: root,
    timeout: IMAGE_BUILD_TIMEOUT_MS,
  }).then(({ stdout }) => stdout.trim().split('\n').pop() ?? '');
  return imageBuild;
}

export function testDockerConnection(): { dockerHost: string; tlsVerify: boolean; certPath?: string } {
  const config = loadConfig({ ...process.env, OPENCLAW_SIGNING_KEY: '', OPENCLAW_SIGNING_KEY_FILE: '', OPENCLAW_SIGNING_KEY_ID: '', OPENCLAW_TRUSTED_KEYS: '' });
  return { dockerHost: config.dockerHost, tlsVerify: config.dockerTlsVerify, certPath: config.dockerCertPath };
}

export interface TestAgents {
  group: string;
  /** The key pair the test's workers sign with; the agents hold its public half (and `trustedKeys` options' keys). */
  signingKey: SigningKeyPair;
  adapter: DockerAdapter;
  channel: AgentChannel;
  agents: AgentRef[];
  /** Starts more agents in the same group; they trust `trusted` (default: signingKey's public key only); `labels` go on their containers. */
  add(count: number, prefix: string, trusted?: SigningKeyPair[], labels?: Record<string, string>): Promise<AgentRef[]>;
  remove(): Promise<void>;
}

/** Waits, by polling the heartbeat file, until each agent's runtime is up and watching. */
export async function waitUntilReady(adapter: DockerAdapter, containerIds: string[]): Promise<void> {
  const deadline = Date.now() + AGENT_READY_TIMEOUT_MS;
  await Promise.all(
    containerIds.map(async (id) => {
      for (;;) {
        const stat = await adapter.stat(id, HEARTBEAT_FILE);
        if (stat.found) return;
        if (Date.now() > deadline) throw new Error(`agent container ${id} wrote no heartbeat in ${AGENT_READY_TIMEOUT_MS} ms`);
        await new Promise((r) => setTimeout(r, READY_POLL_MS));
      }
    }),
  );
}

/** Starts `count` agents in a fresh group `<name>-<random>`, labelled openclaw.test=1; call remove() in afterAll. */
export async function startAgents(count: number, options: { name: string; env?: Record<string, string>; signingKey?: SigningKeyPair; trusted?: SigningKeyPair[] }): Promise<TestAgents> {
  const image = await ensureAgentImage();
  const connection = testDockerConnection();
  const adapter = createDockerAdapter(connection);
  const swarm = createSwarmManager(connection);
  const group = `${options.name}-${randomBytes(3).toString('hex')}`;
  const signingKey = options.signingKey ?? testSigningKey();
  const toRef = (s: StartedAgent): AgentRef => ({ ...s, group, running: true });
  const add = async (n: number, prefix: string, trusted = options.trusted ?? [signingKey], labels: Record<string, string> = {}) => {
    const trustedKeys = formatTrustedKeys(trustedKeysOf(...trusted));
    const started = await swarm.up({ count: n, group, prefix: `${group}-${prefix}`, image, trustedKeys, extraLabels: { ...labels, [TEST_LABEL]: '1' }, extraEnv: options.env });
    await waitUntilReady(adapter, started.map((s) => s.containerId));
    return started.map(toRef);
  };
  const remove = async () => {
    await swarm.down({ [TEST_LABEL]: '1', [LABEL_GROUP]: group });
  };
  let agents: AgentRef[];
  try {
    agents = count > 0 ? await add(count, 'a') : [];
  } catch (err) {
    await remove();
    throw err;
  }
  return {
    group,
    signingKey,
    adapter,
    channel: createAgentChannel(adapter),
    agents,
    add,
    remove,
  };
}

export interface ReloadOutcome {
  snapshot: Awaited<ReturnType<AgentChannel['snapshot']>>;
  trace: Awaited<ReturnType<AgentChannel['readTrace']>>;
}

/** One injection through the channel, as the agentInjection workflow does it: snapshot, stage, reload, read the trace. */
export async function reloadAndTrace(
  channel: AgentChannel,
  containerId: string,
  reloadId: string,
  program: Buffer | null,
  timeoutMs = AGENT_READY_TIMEOUT_MS,
): Promise<ReloadOutcome> {
  const snapshot = await channel.snapshot(containerId);
  await channel.stage(containerId, reloadId, program);
  await channel.reload(containerId, reloadId, program !== null);
  const trace = await channel.readTrace(containerId, reloadId, snapshot.logOffset, { timeoutMs });
  return { snapshot, trace };
}
