// The probes over HTTP: /livez answers with no upstream call, /readyz when Temporal answers, /health when Temporal and a
// worker on every queue answer; none shows a version, an address or a queue name.
import { startGateway, startWorkers, RunningGateway, RunningWorkers, InsecureGatewayError } from '../../src/runtime';
import { createLogger } from '../../src/shared/logger';
import { testConfig, testTemporalAddress, testWorkflowBundle } from '../support/temporal';

const logger = createLogger({ level: 'error', component: 'test' });
const TOKEN = 'h'.repeat(40);

describe('GET /livez, /readyz, /health over HTTP', () => {
  const config = testConfig({ OPENCLAW_API_TOKENS: TOKEN });
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

  it('answers /health 200 with each part only ok once the workers poll; /livez and /readyz 200', async () => {
    type Report = { status: string; parts: Record<string, { ok: boolean }> };
    let body: Report | undefined;
    let status = 0;
    // The server learns of a poller when its first long poll arrives; ask until it has (answers are cached 2 s).
    for (let attempt = 0; attempt < 60; attempt++) {
      const response = await fetch(`${gateway.url}/health`);
      status = response.status;
      body = (await response.json()) as Report;
      if (status === 200) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    expect(status).toBe(200);
    expect(body).toEqual({ status: 'ok', parts: { temporal: { ok: true }, worker: { ok: true } } });
    for (const path of ['/livez', '/readyz']) {
      const response = await fetch(`${gateway.url}${path}`);
      expect([path, response.status, await response.json()]).toEqual([path, 200, { status: 'ok' }]);
    }
  });

  it('answers /health 503 when no worker polls, naming no queue; /readyz stays 200 (Temporal answers)', async () => {
    const idle = testConfig({ OPENCLAW_API_TOKENS: TOKEN });
    const idleGateway = await startGateway({ config: idle, temporalAddress: testTemporalAddress(), logger, port: 0 });
    try {
      const response = await fetch(`${idleGateway.url}/health`);
      const text = await response.text();
      expect(response.status).toBe(503);
      expect(JSON.parse(text)).toEqual({ status: 'unavailable', parts: { temporal: { ok: true }, worker: { ok: false } } });
      expect(text).not.toContain(idle.taskQueue);
      expect((await fetch(`${idleGateway.url}/readyz`)).status).toBe(200);
    } finally {
      await idleGateway.stop();
    }
  });

  it('refuses to start without an API token unless the dev flag is set', async () => {
    const locked = testConfig({ OPENCLAW_INSECURE_DEV: '0' });
    await expect(startGateway({ config: locked, temporalAddress: testTemporalAddress(), logger, port: 0 })).rejects.toThrow(InsecureGatewayError);
  });
});
