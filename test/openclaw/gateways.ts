// Real OpenClaw gateway containers for tests: builds the image when missing, starts a labelled group, asks a gateway what
// it loaded the way an operator would (the OpenClaw CLI inside the container), removes the group after.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { promisify } from 'node:util';
import { LABEL_GROUP } from '../../src/agent/protocol';
import { createDockerAdapter, DockerAdapter, isDockerAdapterError } from '../../src/docker';
import { createSwarmManager, startOpenClawGateways, StartedGateway } from '../../src/docker/agent-swarm';
import { OPENCLAW_DEFAULTS } from '../../src/docker/drivers/openclaw-driver';
import { projectRoot, TEST_LABEL, testDockerConnection } from '../support/agents';

/** A cold build downloads about 650 MB of npm packages and imports a 700 MB image. */
const IMAGE_BUILD_TIMEOUT_MS = 900_000;
/** A gateway says ready in about 6-11 s; on a busy host, several starting at once take longer. */
export const GATEWAY_READY_TIMEOUT_MS = 300_000;
const READY_POLL_MS = 1_000;
const CLI_CALL_TIMEOUT_MS = 60_000;
const MAX_CLI_OUTPUT_BYTES = 4 * 1024 * 1024;

let imageBuild: Promise<string> | null = null;

/** Runs scripts/build-openclaw-image.sh once per test process and returns the content-hash tag it printed. */
export function ensureOpenClawImage(): Promise<string> {
  const root = projectRoot();
  imageBuild ??= promisify(execFile)('bash', [path.join(root, 'scripts', 'build-openclaw-image.sh')], { cwd: root, timeout: IMAGE_BUILD_TIMEOUT_MS, maxBuffer: 1024 * 1024 }).then(
    ({ stdout }) => stdout.trim().split('\n').pop() ?? '',
  );
  return imageBuild;
}

export interface GatewaySkill {
  name: string;
  eligible: boolean;
  source: string;
  filePath: string;
  description: string;
  missing: Record<string, string[]>;
}

/** What `openclaw gateway call skills.status --json` says inside the container; null while the gateway does not answer. */
export async function skillsStatus(adapter: DockerAdapter, containerId: string): Promise<GatewaySkill[] | null> {
  const result = await adapter.exec(containerId, [OPENCLAW_DEFAULTS.nodePath, OPENCLAW_DEFAULTS.cliPath, 'gateway', 'call', 'skills.status', '--json'], {
    timeoutMs: CLI_CALL_TIMEOUT_MS,
    maxOutputBytes: MAX_CLI_OUTPUT_BYTES,
  });
  if (result.exitCode !== 0) return null;
  const parsed = JSON.parse(result.stdout) as { skills: GatewaySkill[] };
  return parsed.skills;
}

export async function workspaceSkill(adapter: DockerAdapter, containerId: string, name: string): Promise<GatewaySkill | undefined> {
  const skills = await skillsStatus(adapter, containerId);
  if (!skills) throw new Error(`the gateway in ${containerId} does not answer skills.status`);
  return skills.find((s) => s.name === name && s.source === 'openclaw-workspace');
}

/** Asks until `check` holds for what the gateway reports, bounded: the gateway reloads skills on its own schedule. */
export async function eventually<T>(read: () => Promise<T>, check: (value: T) => boolean, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (check(value) || Date.now() > deadline) return value;
    await new Promise((resolve) => setTimeout(resolve, READY_POLL_MS));
  }
}

/** Writes a file as the gateway's user would, with an argv exec of node (no shell in the image). */
export async function writeInContainer(adapter: DockerAdapter, containerId: string, file: string, content: string): Promise<void> {
  const script = "const fs=require('fs'),path=require('path');fs.mkdirSync(path.dirname(process.argv[1]),{recursive:true});fs.writeFileSync(process.argv[1],process.argv[2]);";
  const result = await adapter.exec(containerId, [OPENCLAW_DEFAULTS.nodePath, '-e', script, '--', file, content], { timeoutMs: CLI_CALL_TIMEOUT_MS });
  if (result.exitCode !== 0) throw new Error(`writing ${file} failed: ${result.stderr}`);
}

export async function readInContainer(adapter: DockerAdapter, containerId: string, file: string): Promise<string | null> {
  const read = await adapter.readFile(containerId, file, 1024 * 1024);
  return read.found ? read.content.toString('utf8') : null;
}

export interface TestGateways {
  group: string;
  adapter: DockerAdapter;
  gateways: StartedGateway[];
  remove(): Promise<void>;
}

/** Lines of an exited gateway's log quoted in the error. */
const EXITED_LOG_LINES = 40;
/** Starts again of a gateway whose own start-up timed out under load. */
const MAX_START_RESTARTS = 2;

/** Starts `count` gateways in a fresh group and waits until each answers skills.status. */
export async function startTestGateways(count: number, prefix: string): Promise<TestGateways> {
  const image = await ensureOpenClawImage();
  const connection = testDockerConnection();
  const group = `oc-${prefix}-${randomBytes(3).toString('hex')}`;
  const adapter = createDockerAdapter(connection);
  const swarm = createSwarmManager(connection);
  const remove = async () => {
    await swarm.down({ [LABEL_GROUP]: group, [TEST_LABEL]: '1' });
  };
  try {
    const gateways = await startOpenClawGateways(connection, { count, group, prefix: group, image, extraLabels: { [TEST_LABEL]: '1' } });
    const deadline = Date.now() + GATEWAY_READY_TIMEOUT_MS;
    for (const gateway of gateways) {
      // Before it is ready the CLI retries its connection and may outlast one exec's timeout: that too means not yet.
      const answers = () => skillsStatus(adapter, gateway.containerId).catch((err: unknown) => (isDockerAdapterError(err, 'DOCKER_TIMEOUT') ? null : Promise.reject(err)));
      let restarts = 0;
      const answered = async () => {
        try {
          return await answers();
        } catch (err) {
          // A gateway that exited while starting: say why, from its own log, rather than only that it is not running.
          if (!isDockerAdapterError(err, 'CONTAINER_NOT_RUNNING')) throw err;
          const { stdout, stderr } = await promisify(execFile)('docker', ['logs', '--tail', String(EXITED_LOG_LINES), gateway.containerId]).catch(() => ({ stdout: '', stderr: '' }));
          // On a loaded host OpenClaw's own start-up can time out (its state lease: "maintenance_required"); it starts
          // again from the same state folder. Only that exit is retried, and only so often.
          if (restarts < MAX_START_RESTARTS && /maintenance_required|did not become ready/.test(stdout + stderr)) {
            restarts += 1;
            await promisify(execFile)('docker', ['start', gateway.containerId]);
            return null;
          }
          throw new Error(`gateway ${gateway.agentId} exited while starting; the last lines of its log:\n${stdout}${stderr}`, { cause: err });
        }
      };
      while ((await answered()) === null) {
        if (Date.now() > deadline) throw new Error(`gateway ${gateway.agentId} did not answer skills.status within ${GATEWAY_READY_TIMEOUT_MS} ms`);
        await new Promise((resolve) => setTimeout(resolve, READY_POLL_MS));
      }
    }
    return { group, adapter, gateways, remove };
  } catch (err) {
    await remove();
    throw err;
  }
}
