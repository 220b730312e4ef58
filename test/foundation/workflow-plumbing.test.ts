import { randomUUID } from 'node:crypto';
import { createInjectorWorkers } from '../../src/worker/worker';
import { createAgentChannel, createDockerAdapter } from '../../src/docker';
import { createLogger } from '../../src/shared/logger';
import { dockerHostTaskQueue, mainTaskQueue } from '../../src/shared/task-queues';
import { pingWorkflow } from '../../workflows';
import { testClient, testConfig, testNativeConnection, testWorkflowBundle } from '../support/temporal';
import { testSealing, testSigningKey } from '../support/signing';

describe('workflow plumbing on the real dev server', () => {
  it('runs a workflow whose activities land on the main queue and on the Docker host queue', async () => {
    const config = testConfig({ OPENCLAW_DOCKER_HOST_NAME: 'alpha' });
    const docker = createDockerAdapter({ dockerHost: config.dockerHost });
    const { version } = await docker.ping();
    const connection = await testNativeConnection();
    const logger = createLogger({ level: 'warn', component: 'test' });
    const workers = await createInjectorWorkers({
      connection,
      namespace: config.temporalNamespace,
      taskQueue: config.taskQueue,
      dockerHostName: config.dockerHostName,
      workflows: testWorkflowBundle(),
      injectorDeps: { logger },
      dockerDeps: { hostName: 'alpha', logger, docker, channel: createAgentChannel(docker), sealing: testSealing(testSigningKey()) },
    });
    const { client, close } = await testClient();
    try {
      const running = workers.run();
      const result = await client.workflow.execute(pingWorkflow, {
        taskQueue: mainTaskQueue(config.taskQueue),
        workflowId: `ping-${randomUUID()}`,
        args: ['hello', dockerHostTaskQueue(config.taskQueue, 'alpha')],
      });
      expect(result).toEqual({ reply: 'pong: hello', dockerHost: 'alpha', dockerVersion: version });
      workers.shutdown();
      await running;
    } finally {
      await close();
      await connection.close();
    }
  });
});
