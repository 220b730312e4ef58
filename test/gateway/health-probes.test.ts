// The probes' cache: a flood of /readyz and /health costs one round of upstream calls per READINESS_CACHE_MS, and a
// Temporal that fails is reported as not ok, without its error text.
import type { Client } from '@temporalio/client';
import request from 'supertest';
import { createHealthProbes, READINESS_CACHE_MS } from '../../src/gateway/health';
import { createLogger } from '../../src/shared/logger';
import { testGateway } from './support';

function fakeClient(describeNamespace: () => Promise<unknown>, pollers: () => Promise<unknown>) {
  const calls = { describeNamespace: 0, describeTaskQueue: 0 };
  const client = {
    workflowService: {
      describeNamespace: () => {
        calls.describeNamespace++;
        return describeNamespace();
      },
      describeTaskQueue: () => {
        calls.describeTaskQueue++;
        return pollers();
      },
    },
  } as unknown as Client;
  return { client, calls };
}

const quiet = createLogger({ level: 'error', component: 'health-test' });

it('answers a flood of probes from one upstream round per cache period', async () => {
  let now = 1_000_000;
  const fresh = { pollers: [{ lastAccessTime: { seconds: Math.floor(Date.now() / 1000) } }] };
  const { client, calls } = fakeClient(async () => ({}), async () => fresh);
  const probes = createHealthProbes({ client, namespace: 'default', taskQueue: 'q', dockerHosts: ['a', 'b'], logger: quiet, now: () => now });
  const answers = await Promise.all(Array.from({ length: 500 }, (_, i) => (i % 2 ? probes.ready() : probes.health().then((h) => h.status === 'ok'))));
  expect(answers.every(Boolean)).toBe(true);
  // One namespace description; one task queue description per queue (main + two hosts).
  expect(calls).toEqual({ describeNamespace: 1, describeTaskQueue: 3 });
  now += READINESS_CACHE_MS;
  await probes.health();
  expect(calls).toEqual({ describeNamespace: 2, describeTaskQueue: 6 });
});

it('reports a failing Temporal as not ready, without its error text', async () => {
  const { client } = fakeClient(async () => {
    throw new Error('connect ECONNREFUSED 10.1.2.3:7233');
  }, async () => ({ pollers: [] }));
  const probes = createHealthProbes({ client, namespace: 'default', taskQueue: 'q', dockerHosts: ['a'], logger: quiet });
  expect(await probes.ready()).toBe(false);
  const report = await probes.health();
  expect(report).toEqual({ status: 'unavailable', parts: { temporal: { ok: false }, worker: { ok: false } } });
  expect(JSON.stringify(report)).not.toContain('10.1.2.3');
});

it('serves /readyz 503 and /livez 200 over the app when Temporal fails', async () => {
  const { client } = fakeClient(async () => {
    throw new Error('unavailable');
  }, async () => ({ pollers: [] }));
  const gw = await testGateway({ overrides: { health: createHealthProbes({ client, namespace: 'default', taskQueue: 'q', dockerHosts: [], logger: quiet }) } });
  try {
    expect((await request(gw.app).get('/readyz')).status).toBe(503);
    expect((await request(gw.app).get('/readyz')).body).toEqual({ status: 'unavailable' });
    expect((await request(gw.app).get('/livez')).status).toBe(200);
  } finally {
    await gw.close();
  }
});
