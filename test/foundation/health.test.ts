import { startGateway, startWorkers, RunningGateway, RunningWorkers, InsecureGatewayError } from '../../src/runtime';
import { createLogger } from '../../src/shared/logger';
import { testConfig, testTemporalAddress, testWorkflowBundle } from '../support/temporal';

const logger = createLogger({ level: 'error', component: 'test' });

describe('GET /health over HTTP', () => {
  const config = testConfig();
  let workers: RunningWorkers;
  let gateway: RunningGateway;

  beforeAll(async () => {
    workers = await startWorkers({ config, temporalAddress: testTemporalAddress(), logger, workflows: testWorkflowBundle() });
    gateway = await startGateway({ config, temporalAddress: testTemporalAddress(), logger, port: 0 });
  });
  afterAll(async () => {
    await gateway?.stop();
    await workers?.stop();
  });

  it('answers 200 with every part healthy once the workers poll', async () => {
    type Report = { status: string; parts: Record<string, { ok: boolean; error?: string }> };
    let body: Report | undefined;
    let status = 0;
    // The server learns of a poller when its first long poll arrives; ask until it has.
    for (let attempt = 0; attempt < 50; attempt++) {
      const response = await fetch(`${gateway.url}/health`);
      status = response.status;
      body = (await response.json()) as Report;
      if (status === 200) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(status).toBe(200);
    expect(body?.status).toBe('ok');
    expect(body?.parts.temporal).toMatchObject({ ok: true, namespace: 'default' });
    expect(body?.parts.docker).toMatchObject({ ok: true, host: 'local' });
    expect(body?.parts.worker).toMatchObject({ ok: true });
  });

  it('answers 503 naming Docker when the engine does not answer, and names the idle task queues', async () => {
    const broken = testConfig({ DOCKER_HOST: 'unix:///nonexistent/docker.sock' });
    const brokenGateway = await startGateway({ config: broken, temporalAddress: testTemporalAddress(), logger, port: 0 });
    try {
      const response = await fetch(`${brokenGateway.url}/health`);
      const body = (await response.json()) as { status: string; parts: Record<string, { ok: boolean; error?: string }> };
      expect(response.status).toBe(503);
      expect(body.status).toBe('unavailable');
      expect(body.parts.temporal.ok).toBe(true);
      expect(body.parts.docker.ok).toBe(false);
      expect(body.parts.docker.error ?? '').toMatch(/nonexistent|ENOENT|unavailable/i);
      expect(body.parts.worker).toEqual({ ok: false, error: expect.stringContaining(`no worker is polling task queue ${broken.taskQueue}`) });
    } finally {
      await brokenGateway.stop();
    }
  });

  it('refuses to start without an API token unless the insecure dev flag is set', async () => {
    const locked = testConfig({ OPENCLAW_INSECURE_DEV: '0' });
    await expect(startGateway({ config: locked, temporalAddress: testTemporalAddress(), logger, port: 0 })).rejects.toThrow(InsecureGatewayError);
  });
});
