// One swarm injection through the gateway on the cluster: real agents on two Docker engines, a worker per engine,
// every process apart and on mTLS; each agent ends up running the new program, and the UI finds the injection.
import type { InjectionView } from '../../src/gateway/injection-service';
import { eventually } from '../gateway/support';
import { startClusterAgents } from './support-agents';
import { gatewayRequest, testCluster, untilDone } from './support';

const AGENTS_PER_ENGINE = 2;
const cluster = testCluster();
let agents: Awaited<ReturnType<typeof startClusterAgents>>;

beforeAll(async () => {
  agents = await startClusterAgents('cluster-e2e', AGENTS_PER_ENGINE);
}, 240_000);
afterAll(async () => agents?.remove());

describe('a swarm injection on the cluster', () => {
  it('reaches every agent on both engines through the gateway, each on its own host, and shows in the UI', async () => {
    const start = await gatewayRequest('POST', '/inject-swarm', { group: agents.group, instruction: 'OPTIMIZE_THROUGHPUT {\n  MAX_PARALLEL: 4\n  CANARY: 1\n}' });
    expect(start.status).toBe(202);
    const injectionId = start.body.injectionId as string;

    const view: InjectionView = await untilDone(injectionId);
    expect(view.status).toBe('succeeded');
    expect(view.counts).toMatchObject({ total: 2 * AGENTS_PER_ENGINE, injected: 2 * AGENTS_PER_ENGINE, failed: 0 });
    for (const engine of agents.engines) {
      for (const agent of engine.agents) {
        expect(view.agents.items.find((a) => a.agentId === agent.agentId)).toMatchObject({ outcome: 'injected', host: engine.hostName });
        // Read back through the agent's own engine: it runs the program of this injection.
        expect(await engine.channel.current(agent.containerId)).toMatchObject({ reloadId: injectionId });
      }
    }

    // The UI server (its own mTLS client) finds the injection by the injector's search attribute.
    const query = encodeURIComponent(`InjectionId = "${injectionId}"`);
    const listed = await eventually(async () => {
      const response = await fetch(`http://127.0.0.1:${cluster.settings.ports.ui}/api/v1/namespaces/${cluster.settings.namespace}/workflows?query=${query}`);
      const body = (await response.json()) as { executions?: Array<{ execution?: { workflowId?: string } }> };
      return body.executions?.some((e) => e.execution?.workflowId === injectionId) ? body : undefined;
    }, 'the UI to list the injection');
    expect(listed.executions?.length).toBeGreaterThan(0);
  });
});
