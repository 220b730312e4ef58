// Process hygiene of the scripts a user runs: the Docker engine that provisioning starts lives in its own session
// (Ctrl-C on `npm start` never reaches it), and the swarm scripts say in one line when no engine answers.
import { spawn } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const PROJECT_ROOT = path.resolve(__dirname, '..', '..');
const RUN_TIMEOUT_MS = 60_000;
/** No engine listens on port 1 of the loopback interface: connections are refused at once. */
const UNREACHABLE_DOCKER_HOST = 'tcp://127.0.0.1:1';

interface Finished {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(command: string, args: string[], env: NodeJS.ProcessEnv): Promise<Finished> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: PROJECT_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${command} ${args.join(' ')} ran longer than ${RUN_TIMEOUT_MS} ms; stderr so far:\n${stderr}`));
    }, RUN_TIMEOUT_MS);
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** A stand-in `docker` and `dockerd`: the engine "answers" once dockerd has started; both note their process group and session. */
function fakeDockerBin(stateDir: string): string {
  const bin = path.join(stateDir, 'bin');
  const ids = (file: string) => `awk '{print $5, $6}' /proc/$$/stat > "${path.join(stateDir, file)}"`;
  const write = (name: string, body: string) => {
    writeFileSync(path.join(bin, name), `#!/usr/bin/env bash\n${body}\n`);
    chmodSync(path.join(bin, name), 0o755);
  };
  mkdirSync(bin);
  write('docker', `${ids('shell.ids')}\n[ -f "${path.join(stateDir, 'started')}" ] || exit 1\necho 0.0.0-fake`);
  write('dockerd', `${ids('dockerd.ids')}\ntouch "${path.join(stateDir, 'started')}"\nexec sleep 600`);
  return bin;
}

describe('process hygiene of the scripts', () => {
  it('provisioning starts dockerd in its own session and process group, apart from the provisioning shell', async () => {
    const stateDir = mkdtempSync(path.join(os.tmpdir(), 'openclaw-provision-'));
    try {
      const bin = fakeDockerBin(stateDir);
      const env: NodeJS.ProcessEnv = { ...process.env, PATH: `${bin}:${process.env.PATH ?? ''}`, OPENCLAW_DATA_DIR: path.join(stateDir, 'data') };
      delete env.DOCKER_HOST;
      // A private pid namespace: provisioning sees no dockerd running (the host's is not visible there), so it starts
      // the stand-in; everything in the namespace ends with it.
      const provision = await run('unshare', ['--pid', '--fork', '--mount-proc', 'bash', path.join(PROJECT_ROOT, 'scripts', 'provision.sh'), 'docker'], env);
      expect(provision).toMatchObject({ code: 0 });
      expect(provision.stderr).toContain('starting dockerd in the background');

      const [shellGroup, shellSession] = readFileSync(path.join(stateDir, 'shell.ids'), 'utf8').trim().split(' ');
      const [dockerdGroup, dockerdSession] = readFileSync(path.join(stateDir, 'dockerd.ids'), 'utf8').trim().split(' ');
      expect(dockerdSession).not.toBe(shellSession);
      expect(dockerdGroup).not.toBe(shellGroup);
    } finally {
      rmSync(stateDir, { recursive: true, force: true });
    }
  }, RUN_TIMEOUT_MS);

  it.each(['up', 'down'])('npm run swarm:%s against an unreachable DOCKER_HOST says so in one line, exit code 2, no stack trace', async (command) => {
    const args = command === 'up' ? ['run', '--silent', 'swarm:up', '--', '--count', '1'] : ['run', '--silent', 'swarm:down'];
    const result = await run('npm', args, { ...process.env, DOCKER_HOST: UNREACHABLE_DOCKER_HOST });

    expect(result.code).toBe(2);
    expect(result.stderr.trim()).toMatch(new RegExp(`^swarm: no Docker engine answers at DOCKER_HOST=${UNREACHABLE_DOCKER_HOST.replace(/[.]/g, '\\.')}: .*ECONNREFUSED.*`));
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).not.toMatch(/^\s+at /m);
  }, RUN_TIMEOUT_MS);
});
