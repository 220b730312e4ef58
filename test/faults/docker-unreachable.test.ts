// The Docker engine unreachable for a few seconds mid-rollout: the worker reaches Docker through a unix-socket proxy
// this test controls (the real dockerd is shared with other tests and stays up). While the proxy is down it drops
// every connection, open or new; the activities retry and the rollout completes.
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { startAgents, testDockerConnection, TestAgents } from '../support/agents';
import { agentStarted, assertWorkerBuilt, expectAccountedFor, expectAgentsRun, waitUntil, WorkerProcesses } from '../support/faults';
import { startTestInjector, TestInjector } from '../support/injector';
import { testTemporalAddress } from '../support/temporal';

const AGENT_COUNT = 6;
const OUTAGE_MS = 5_000;

/** A unix-socket proxy to the Docker engine that can be switched off (drops every connection) and on again. */
class DockerSocketProxy {
  private readonly open = new Set<net.Socket>();
  private down = false;
  refused = 0;
  private readonly server: net.Server;

  constructor(
    readonly socketPath: string,
    private readonly upstreamPath: string,
  ) {
    this.server = net.createServer((client) => {
      if (this.down) {
        this.refused += 1;
        client.destroy();
        return;
      }
      const upstream = net.connect(this.upstreamPath);
      for (const [a, b] of [[client, upstream], [upstream, client]] as const) {
        this.open.add(a);
        a.on('error', () => b.destroy());
        a.on('close', () => {
          this.open.delete(a);
          b.destroy();
        });
        a.pipe(b);
      }
    });
  }

  listen(): Promise<void> {
    return new Promise((resolve) => this.server.listen(this.socketPath, resolve));
  }

  cut(): void {
    this.down = true;
    for (const socket of this.open) socket.destroy();
  }

  restore(): void {
    this.down = false;
  }

  close(): Promise<void> {
    this.cut();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

let agents: TestAgents;
let injector: TestInjector;
let workers: WorkerProcesses;
let proxy: DockerSocketProxy;
let dir: string;

beforeAll(async () => {
  assertWorkerBuilt();
  const upstream = testDockerConnection().dockerHost;
  if (!upstream.startsWith('unix://')) throw new Error(`this test proxies a unix socket; DOCKER_HOST is ${upstream}`);
  dir = mkdtempSync(path.join(os.tmpdir(), 'openclaw-docker-proxy-'));
  proxy = new DockerSocketProxy(path.join(dir, 'docker.sock'), upstream.slice('unix://'.length));
  await proxy.listen();
  agents = await startAgents(AGENT_COUNT, { name: 'nodocker' });
  injector = await startTestInjector({ signingKey: agents.signingKey, workers: false });
  workers = new WorkerProcesses({ temporalAddress: testTemporalAddress(), taskQueue: injector.config.taskQueue, signingKey: agents.signingKey, dockerHost: `unix://${proxy.socketPath}` });
}, 240_000);

afterAll(async () => {
  await workers?.killAll();
  await injector?.stop();
  await proxy?.close();
  await agents?.remove();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

it('retries through a Docker outage of a few seconds and completes the rollout', async () => {
  workers.start();
  const injectionId = `nodocker-${Date.now()}`;
  const handle = await injector.startSwarm({
    injectionId,
    source: 'SIMULATE_WORK BY 2s {\n  MAX_PARALLEL: 3\n  CANARY: 0\n  RETRIES: 6\n}',
    targets: { agentIds: agents.agents.map((a) => a.agentId) },
  });
  // Cut the engine off while the first agents run the program, so trace reads and the next launches both hit it.
  await waitUntil(async () => agentStarted(agents.adapter, agents.agents[0].containerId, injectionId), 'the first agent running the injection');
  proxy.cut();
  await new Promise((r) => setTimeout(r, OUTAGE_MS));
  proxy.restore();

  const result = await handle.result();
  expect(proxy.refused).toBeGreaterThan(0);
  expect(result.status).toBe('succeeded');
  expect(result.counts).toMatchObject({ total: AGENT_COUNT, injected: AGENT_COUNT, failed: 0 });
  await expectAccountedFor(injector.client, result, agents.agents);
  await expectAgentsRun(injector.channel, agents.adapter, injectionId, agents.agents, () => injectionId);
  console.log(`docker-unreachable: engine cut off for ${OUTAGE_MS} ms, ${proxy.refused} connections refused, ${AGENT_COUNT}/${AGENT_COUNT} injected`);
}, 240_000);
