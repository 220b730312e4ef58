// The Docker adapter against the real engine: discovery by label, bounded archive I/O, exec, typed errors, and health.
import { HEARTBEAT_STALE_MS } from '../../src/agent/heartbeat';
import { LABEL_AGENT_ID } from '../../src/agent/protocol';
import { createDockerAdapter } from '../../src/docker';
import { readAgentHealth } from '../../src/docker/agent-health';
import { createSwarmManager } from '../../src/docker/agent-swarm';
import { formatTrustedKeys } from '../../src/signing/keys';
import { ensureAgentImage, startAgents, TEST_LABEL, TestAgents, testDockerConnection } from '../support/agents';
import { trustedKeysOf } from '../support/signing';

let swarm: TestAgents;

beforeAll(async () => {
  swarm = await startAgents(3, { name: 'adapter' });
}, 180_000);

afterAll(async () => {
  await swarm?.remove();
});

const first = () => swarm.agents[0].containerId;
const node = (script: string) => ['node', '-e', script];

describe('Docker adapter on the real engine', () => {
  test('ping reports the engine version', async () => {
    const { version, apiVersion } = await swarm.adapter.ping();
    expect(version).toMatch(/^\d+\.\d+/);
    expect(apiVersion).toMatch(/^\d+\.\d+$/);
  });

  test('agents are discovered by group and by id, each mapped to its container', async () => {
    const inGroup = await swarm.adapter.listAgents({ group: swarm.group });
    expect(inGroup.map((a) => a.agentId)).toEqual(swarm.agents.map((a) => a.agentId).sort());
    expect(inGroup.every((a) => a.group === swarm.group && a.running)).toBe(true);
    const two = await swarm.adapter.listAgents({ agentIds: [swarm.agents[2].agentId, swarm.agents[0].agentId] });
    expect(two.map((a) => a.containerId).sort()).toEqual([swarm.agents[0].containerId, swarm.agents[2].containerId].sort());
    expect(await swarm.adapter.findAgent(swarm.agents[1].agentId)).toMatchObject({ containerId: swarm.agents[1].containerId, group: swarm.group });
    expect(await swarm.adapter.findAgent('no-such-agent-anywhere')).toBeNull();
    await expect(swarm.adapter.listAgents({ group: '../etc' })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });

  test('a file written in is read back; an absent file is its own result', async () => {
    await swarm.adapter.writeFile(first(), '/app/injected-programs/hello.txt', Buffer.from('hello agent'), 0o640);
    expect(await swarm.adapter.readFile(first(), '/app/injected-programs/hello.txt', 1024)).toEqual({ found: true, content: Buffer.from('hello agent'), size: 11 });
    expect(await swarm.adapter.stat(first(), '/app/injected-programs/hello.txt')).toMatchObject({ found: true, size: 11, mode: 0o640, isSymlink: false });
    expect(await swarm.adapter.readFile(first(), '/app/injected-programs/nothing-here', 1024)).toEqual({ found: false });
    expect(await swarm.adapter.stat(first(), '/app/nothing-here')).toEqual({ found: false });
    // Written files belong to the agent's user, so the agent can rename and delete them.
    const owner = await swarm.adapter.exec(first(), node('process.stdout.write(String(require("fs").statSync("/app/injected-programs/hello.txt").uid))'), { timeoutMs: 10_000 });
    expect(owner.stdout).toBe('1000');
  });

  test('reading is bounded and refuses symlinks and directories', async () => {
    await swarm.adapter.writeFile(first(), '/app/logs/big.bin', Buffer.alloc(4096, 1));
    await expect(swarm.adapter.readFile(first(), '/app/logs/big.bin', 1024)).rejects.toMatchObject({ code: 'ARCHIVE_TOO_LARGE', retryable: false });
    await swarm.adapter.exec(first(), node('require("fs").symlinkSync("/etc/passwd", "/app/logs/link")'), { timeoutMs: 10_000 });
    await expect(swarm.adapter.readFile(first(), '/app/logs/link', 1024 * 1024)).rejects.toMatchObject({ code: 'ARCHIVE_UNSAFE' });
    expect(await swarm.adapter.stat(first(), '/app/logs/link')).toMatchObject({ found: true, isSymlink: true });
    await expect(swarm.adapter.readFile(first(), '/app/logs', 1024 * 1024)).rejects.toMatchObject({ code: 'ARCHIVE_UNSAFE' });
    await expect(swarm.adapter.readFile(first(), '/app/../etc/passwd', 1024)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });

  test('exec takes argv, demuxes stdout and stderr, and returns the exit code', async () => {
    const ok = await swarm.adapter.exec(first(), node('process.stdout.write("out; $(rm -rf /)"); process.stderr.write("err")'), { timeoutMs: 10_000 });
    expect(ok).toEqual({ stdout: 'out; $(rm -rf /)', stderr: 'err', exitCode: 0 });
    const failed = await swarm.adapter.exec(first(), node('process.exit(3)'), { timeoutMs: 10_000 });
    expect(failed.exitCode).toBe(3);
  });

  test('exec ends with typed errors on timeout and on oversize output', async () => {
    await expect(swarm.adapter.exec(first(), node('setTimeout(() => {}, 30000)'), { timeoutMs: 300 })).rejects.toMatchObject({ code: 'DOCKER_TIMEOUT', retryable: true });
    await expect(swarm.adapter.exec(first(), node('process.stdout.write("x".repeat(100000))'), { timeoutMs: 10_000, maxOutputBytes: 1000 })).rejects.toMatchObject({
      code: 'EXEC_OUTPUT_TOO_LARGE',
    });
  });

  test('a missing container and an unreachable engine are told apart, and only the engine is retryable', async () => {
    await expect(swarm.adapter.readFile('0123456789ab-no-such-container', '/app/x', 10)).rejects.toMatchObject({ code: 'CONTAINER_NOT_FOUND', retryable: false });
    await expect(swarm.adapter.containerState('no-such-container-at-all')).rejects.toMatchObject({ code: 'CONTAINER_NOT_FOUND' });
    const nowhere = createDockerAdapter({ dockerHost: 'unix:///nonexistent/docker.sock' });
    await expect(nowhere.ping()).rejects.toMatchObject({ code: 'DOCKER_UNAVAILABLE', retryable: true });
    expect(() => createDockerAdapter({ dockerHost: 'ftp://x' })).toThrow(/DOCKER_HOST/);
  });

  test('an idle agent runs no Docker health check; its heartbeat says it is healthy, and the opt-in HEALTHCHECK agrees', async () => {
    // The image has no HEALTHCHECK: Docker execs nothing in the container, and reports no health.
    expect((await swarm.adapter.containerState(first())).health).toBe('none');
    const [agent] = await swarm.adapter.listAgents({ agentIds: [swarm.agents[0].agentId] });
    expect(await readAgentHealth(swarm.adapter, agent)).toMatchObject({ running: true, healthy: true });
    // A heartbeat older than the stale bound reads as unhealthy, as the exec check would say.
    expect(await readAgentHealth(swarm.adapter, agent, Date.now() + HEARTBEAT_STALE_MS + 10_000)).toMatchObject({ healthy: false });

    const manager = createSwarmManager(testDockerConnection());
    const prefix = `${swarm.group}-hc`;
    const [checked] = await manager.up({ count: 1, group: swarm.group, prefix, image: await ensureAgentImage(), trustedKeys: formatTrustedKeys(trustedKeysOf(swarm.signingKey)), healthcheck: true, extraLabels: { [TEST_LABEL]: '1' } });
    try {
      const deadline = Date.now() + 60_000;
      let health = (await swarm.adapter.containerState(checked.containerId)).health;
      while (health !== 'healthy' && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 250));
        health = (await swarm.adapter.containerState(checked.containerId)).health;
      }
      expect(health).toBe('healthy');
    } finally {
      await manager.down({ [TEST_LABEL]: '1', [LABEL_AGENT_ID]: checked.agentId });
    }
  }, 90_000);
});
