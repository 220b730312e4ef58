// Reference agents on both engines of the test cluster (alpha: the default engine; beta: the cluster's own), signed
// with the cluster's key, labelled as test containers and removed after.
import { randomBytes } from 'node:crypto';
import { LABEL_GROUP } from '../../src/agent/protocol';
import { AgentChannel, createAgentChannel, createDockerAdapter, DockerAdapter } from '../../src/docker';
import { createSwarmManager } from '../../src/docker/agent-swarm';
import { formatTrustedKey } from '../../src/signing/keys';
import { dockerodeFor } from '../../src/docker/dockerode-adapter';
import { engines } from '../../scripts/cluster/injector';
import { ensureAgentImage, TEST_LABEL, waitUntilReady } from '../support/agents';
import { copyImage } from '../support/second-engine';
import { testCluster } from './support';

export interface EngineAgents {
  hostName: string;
  docker: DockerAdapter;
  channel: AgentChannel;
  agents: Array<{ agentId: string; containerId: string }>;
}

export async function startClusterAgents(name: string, perEngine: number): Promise<{ group: string; engines: EngineAgents[]; remove(): Promise<void> }> {
  const cluster = testCluster();
  const image = await ensureAgentImage();
  const group = `${name}-${randomBytes(3).toString('hex')}`;
  const list = engines(cluster.settings, cluster.paths);
  const defaultEngine = dockerodeFor({ dockerHost: list[0].dockerHost });
  const started: EngineAgents[] = [];
  const remove = async () => {
    for (const engine of list) await createSwarmManager({ dockerHost: engine.dockerHost }).down({ [TEST_LABEL]: '1', [LABEL_GROUP]: group });
  };
  try {
    for (const engine of list) {
      if (engine.proc) await copyImage(defaultEngine, dockerodeFor({ dockerHost: engine.dockerHost }), image, engine.dockerHost);
      const docker = createDockerAdapter({ dockerHost: engine.dockerHost });
      const up = await createSwarmManager({ dockerHost: engine.dockerHost }).up({
        count: perEngine,
        group,
        image,
        prefix: `${group}-${engine.hostName}`,
        trustedKeys: formatTrustedKey(cluster.signingKey.keyId, cluster.signingKey.publicKey),
        extraLabels: { [TEST_LABEL]: '1' },
      });
      await waitUntilReady(docker, up.map((a) => a.containerId));
      started.push({ hostName: engine.hostName, docker, channel: createAgentChannel(docker), agents: up.map((a) => ({ agentId: a.agentId, containerId: a.containerId })) });
    }
  } catch (err) {
    await remove();
    throw err;
  }
  return { group, engines: started, remove };
}
