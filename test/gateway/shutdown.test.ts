// Stopping the gateway while a client waits on `?wait=true`: the wait ends at once with what is known (202 and the
// status URL), and the stop does not sit out the connection-close bound (GATEWAY_CLOSE_TIMEOUT_MS) on it.
import { GATEWAY_CLOSE_TIMEOUT_MS, RunningGateway, startGateway } from '../../src/runtime';
import { createLogger } from '../../src/shared/logger';
import { testConfig, testTemporalAddress } from '../support/temporal';

const TOKEN = 's'.repeat(40);
const GOOD = 'REDUCE_COSTS BY 15% {\n  BUDGET: $500\n  CANARY: 0\n}';
/** It takes about 0.2 s here; the bound leaves room for a loaded machine and stays far below the 10 s close bound. */
const STOP_BOUND_MS = 3_000;

let gateway: RunningGateway | undefined;

afterAll(async () => {
  await gateway?.stop();
});

it('answers a waiting POST /inject-swarm?wait=true with 202 when the gateway stops, and stops well inside its close bound', async () => {
  // No worker polls this test's queue, so the injection never ends on its own: only the stop can end the wait.
  const config = testConfig({ OPENCLAW_API_TOKENS: TOKEN });
  gateway = await startGateway({ config, temporalAddress: testTemporalAddress(), logger: createLogger({ level: 'error', component: 'shutdown-test' }), port: 0 });
  const headers = { Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/json' };
  const waiting = fetch(`${gateway.url}/inject-swarm?wait=true`, { method: 'POST', headers, body: JSON.stringify({ agents: ['ghost-1'], instruction: GOOD }) });
  const started = Date.now();
  for (;;) {
    const metrics = await (await fetch(`${gateway.url}/metrics`, { headers })).text();
    if (/^openclaw_injections_started_total [1-9]/m.test(metrics)) break;
    if (Date.now() - started > 30_000) throw new Error('the injection never started');
    await new Promise((r) => setTimeout(r, 100));
  }
  await new Promise((r) => setTimeout(r, 300)); // the request is now inside its wait

  const stopping = Date.now();
  const stopped = gateway.stop();
  gateway = undefined;
  const response = await waiting;
  expect(response.status).toBe(202);
  expect(await response.json()).toMatchObject({ injectionId: expect.any(String), statusUrl: expect.stringMatching(/^\/injections\//) });
  await stopped;
  expect(Date.now() - stopping).toBeLessThan(Math.min(STOP_BOUND_MS, GATEWAY_CLOSE_TIMEOUT_MS));
}, 60_000);
