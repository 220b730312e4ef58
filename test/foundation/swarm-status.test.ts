// `npm run swarm:status` as a user runs it: each agent's health read from its heartbeat, since the image runs no
// Docker HEALTHCHECK; exit code 1 when any agent is not healthy, so it serves as a probe.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { LABEL_GROUP } from '../../src/agent/protocol';
import { createSwarmManager } from '../../src/docker/agent-swarm';
import { testDockerConnection } from '../support/agents';

const PROJECT_ROOT = path.resolve(__dirname, '..', '..');
const RUN_TIMEOUT_MS = 120_000;

interface Finished {
  code: number;
  stdout: string;
  stderr: string;
}

async function npm(args: string[], env: NodeJS.ProcessEnv): Promise<Finished> {
  try {
    const { stdout, stderr } = await promisify(execFile)('npm', ['run', '--silent', ...args], { cwd: PROJECT_ROOT, env, timeout: RUN_TIMEOUT_MS });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const failed = err as { code?: number; stdout?: string; stderr?: string };
    if (typeof failed.code !== 'number') throw err;
    return { code: failed.code, stdout: failed.stdout ?? '', stderr: failed.stderr ?? '' };
  }
}

it('reports each agent healthy from its heartbeat, and a stopped one as not, with exit code 1', async () => {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'openclaw-swarm-status-'));
  const group = `status-${randomBytes(3).toString('hex')}`;
  const env = { ...process.env, OPENCLAW_DATA_DIR: dataDir, DOCKER_HOST: testDockerConnection().dockerHost };
  try {
    const up = await npm(['swarm:up', '--', '--count', '2', '--group', group], env);
    expect(up).toMatchObject({ code: 0 });
    expect(up.stdout).toContain(`openclaw-agent-${group}-1`);

    // The heartbeat is written once the runtime starts; give it a few seconds.
    let status = await npm(['swarm:status', '--', '--group', group], env);
    for (let i = 0; i < 20 && status.code !== 0; i++) {
      await new Promise((r) => setTimeout(r, 500));
      status = await npm(['swarm:status', '--', '--group', group], env);
    }
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(new RegExp(`^${group}-1\\topenclaw-agent-${group}-1\\trunning\\thealthy\\theartbeat \\d+\\.\\d s ago$`, 'm'));
    expect(status.stdout).toContain(`2 agent(s) in group ${group}: 2 healthy, 0 not`);

    await promisify(execFile)('docker', ['stop', '-t', '1', `openclaw-agent-${group}-2`]);
    status = await npm(['swarm:status', '--', '--group', group], env);
    expect(status.code).toBe(1);
    expect(status.stdout).toMatch(new RegExp(`^${group}-2\\topenclaw-agent-${group}-2\\tstopped\\tunhealthy\\tno heartbeat$`, 'm'));
    expect(status.stdout).toContain('1 healthy, 1 not');
  } finally {
    await createSwarmManager(testDockerConnection()).down({ [LABEL_GROUP]: group });
    rmSync(dataDir, { recursive: true, force: true });
  }
}, 4 * RUN_TIMEOUT_MS);
