// Every gateway route and its error paths, through supertest, on the run's dev server with no workers polling:
// started injections stay running, so steering is observable and nothing touches an agent.
import request from 'supertest';
import { MAX_BODY_BYTES } from '../../src/gateway/app';
import { createApp } from '../../src/gateway/app';
import { auth, eventually, OTHER_TOKEN, TestGateway, testGateway } from './support';

let gw: TestGateway;
const started: string[] = [];

beforeAll(async () => {
  gw = await testGateway({ callTimeoutMs: 1_500 });
});

afterAll(async () => {
  await Promise.all(started.map((id) => gw.client.workflow.getHandle(id).terminate('test over').catch(() => undefined)));
  await gw?.close();
});

const GOOD = 'REDUCE_COSTS BY 15% {\n  BUDGET: $500\n}';

async function startSwarm(body: Record<string, unknown> = {}, headers: Record<string, string> = {}) {
  const response = await request(gw.app)
    .post('/inject-swarm')
    .set(auth)
    .set(headers)
    .send({ agents: ['ghost-1', 'ghost-2'], instruction: GOOD, ...body });
  if (response.body.injectionId) started.push(response.body.injectionId);
  return response;
}

describe('authentication and the error shape', () => {
  it('serves /health without a token', async () => {
    const response = await request(gw.app).get('/health');
    expect([200, 503]).toContain(response.status);
    expect(response.body.parts.temporal.ok).toBe(true);
  });

  it('answers 401 without a token and 403 with a wrong one, in the stable error shape', async () => {
    const missing = await request(gw.app).get('/injections');
    expect(missing.status).toBe(401);
    expect(missing.body).toEqual({ error: { code: 'UNAUTHENTICATED', message: expect.any(String) } });
    const wrong = await request(gw.app).get('/injections').set('Authorization', `Bearer ${'x'.repeat(40)}`);
    expect(wrong.status).toBe(403);
    expect(wrong.body.error.code).toBe('FORBIDDEN');
    const unauthPost = await request(gw.app).post('/inject-swarm').send({ instruction: GOOD });
    expect(unauthPost.status).toBe(401);
  });

  it('answers 404 NOT_FOUND for an unknown route', async () => {
    const response = await request(gw.app).get('/nowhere').set(auth);
    expect(response.status).toBe(404);
    expect(response.body.error.code).toBe('NOT_FOUND');
  });

  it('answers 400 MALFORMED_JSON for a body that is not JSON', async () => {
    const response = await request(gw.app).post('/inject').set(auth).set('Content-Type', 'application/json').send('{"agentId": "a1",');
    expect(response.status).toBe(400);
    expect(response.body.error.code).toBe('MALFORMED_JSON');
  });

  it('answers 413 BODY_TOO_LARGE for a body over the limit', async () => {
    const response = await request(gw.app)
      .post('/inject')
      .set(auth)
      .send({ agentId: 'a1', instruction: 'x'.repeat(MAX_BODY_BYTES + 1) });
    expect(response.status).toBe(413);
    expect(response.body.error.code).toBe('BODY_TOO_LARGE');
  });

  it('answers 500 INTERNAL without the error text or a stack trace when something unexpected breaks', async () => {
    const broken = createApp({
      health: { client: gw.client, namespace: 'default', taskQueue: 'x', dockerHostName: 'local', dockerPing: async () => ({ version: '1', apiVersion: '1' }) },
      apiTokens: [],
      logger: { debug() {}, info() {}, warn() {}, error() {}, child() { return this; } },
      injections: { ...gw.injections, list: async () => { throw new Error('secret internals at /srv/app.js:12'); } },
      docker: { listAgents: async () => [] },
      metrics: gw.metrics,
    });
    const response = await request(broken).get('/injections');
    expect(response.status).toBe(500);
    expect(response.body).toEqual({ error: { code: 'INTERNAL', message: expect.any(String) } });
    expect(JSON.stringify(response.body)).not.toMatch(/secret|app\.js|at /);
  });
});

describe('POST /inject and POST /inject-swarm', () => {
  it('names every missing field in one 400', async () => {
    const response = await request(gw.app).post('/inject').set(auth).send({});
    expect(response.status).toBe(400);
    expect(response.body.error.code).toBe('INVALID_REQUEST');
    expect(response.body.error.details.problems.map((p: { field: string }) => p.field).sort()).toEqual(['agentId', 'instruction']);
  });

  it('refuses unknown fields, bad agent ids, bad priorities and agents together with group', async () => {
    const response = await request(gw.app)
      .post('/inject-swarm')
      .set(auth)
      .send({ agents: ['ok-1', 'bad id!'], group: 'g', instruction: GOOD, priority: 'urgent', agnets: [] });
    expect(response.status).toBe(400);
    const fields = response.body.error.details.problems.map((p: { field: string }) => p.field).sort();
    expect(fields).toEqual(['agents', 'agnets', 'group', 'priority']);
  });

  it('refuses prototype-polluting keys anywhere in the context', async () => {
    const raw = `{"agentId":"a1","instruction":${JSON.stringify(GOOD)},"context":{"deep":{"__proto__":{"polluted":true}}}}`;
    const response = await request(gw.app).post('/inject').set(auth).set('Content-Type', 'application/json').send(raw);
    expect(response.status).toBe(400);
    expect(response.body.error.details.problems[0].field).toBe('context.deep.__proto__');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('refuses a context over the size limit', async () => {
    const response = await request(gw.app)
      .post('/inject')
      .set(auth)
      .send({ agentId: 'a1', instruction: GOOD, context: { blob: 'x'.repeat(20_000) } });
    expect(response.status).toBe(400);
    expect(response.body.error.details.problems[0].field).toBe('context');
  });

  it('answers a program that does not compile with 400 and every diagnostic: code, line, column, message', async () => {
    const response = await request(gw.app)
      .post('/inject-swarm')
      .set(auth)
      .send({ agents: ['a1'], instruction: 'REDUCE_COSTS BY 15% {\n  BUDGTE: $5\n  DEADLNE: 2h\n}' });
    expect(response.status).toBe(400);
    expect(response.body.error.code).toBe('COMPILE_FAILED');
    expect(response.body.error.message).toMatch(/2 error\(s\).*2:3/);
    expect(response.body.error.details.diagnostics).toEqual([
      expect.objectContaining({ code: 'UNKNOWN_KEY', line: 2, column: 3, message: expect.stringContaining('BUDGET') }),
      expect.objectContaining({ code: 'UNKNOWN_KEY', line: 3, column: 3, message: expect.any(String) }),
    ]);
  });

  it('answers 400 NO_TARGETS when neither the request nor the program names targets', async () => {
    const response = await request(gw.app).post('/inject-swarm').set(auth).send({ instruction: GOOD });
    expect(response.status).toBe(400);
    expect(response.body.error.code).toBe('NO_TARGETS');
  });

  it('starts a swarm injection: 202 with its id, a status URL and a Location header', async () => {
    const response = await startSwarm();
    expect(response.status).toBe(202);
    expect(response.body).toEqual({ injectionId: expect.stringMatching(/^inj-/), statusUrl: `/injections/${response.body.injectionId}`, created: true });
    expect(response.headers.location).toBe(response.body.statusUrl);
    const description = await gw.client.workflow.getHandle(response.body.injectionId).describe();
    expect(description.status.name).toBe('RUNNING');
    expect(description.taskQueue).toBe(gw.config.taskQueue);
  });

  it('POST /inject starts a swarm injection of one agent and keeps the seed field agentId', async () => {
    const response = await request(gw.app).post('/inject').set(auth).send({ agentId: 'ghost-9', instruction: GOOD, priority: 'critical' });
    started.push(response.body.injectionId);
    expect(response.status).toBe(202);
    expect(response.body).toMatchObject({ agentId: 'ghost-9', created: true });
  });

  it('with the same Idempotency-Key returns the same injection; another token or another body gets its own answer', async () => {
    const first = await startSwarm({}, { 'Idempotency-Key': 'deploy-42' });
    const again = await startSwarm({}, { 'Idempotency-Key': 'deploy-42' });
    expect(first.status).toBe(202);
    expect(again.status).toBe(202);
    expect(again.body.injectionId).toBe(first.body.injectionId);
    expect(again.body.created).toBe(false);

    const otherCaller = await startSwarm({}, { 'Idempotency-Key': 'deploy-42', Authorization: `Bearer ${OTHER_TOKEN}` });
    expect(otherCaller.status).toBe(202);
    expect(otherCaller.body.injectionId).not.toBe(first.body.injectionId);

    const otherBody = await startSwarm({ agents: ['ghost-3'] }, { 'Idempotency-Key': 'deploy-42' });
    expect(otherBody.status).toBe(409);
    expect(otherBody.body.error.code).toBe('INJECTION_ID_CONFLICT');
    expect(gw.metrics.render()).toMatch(/^openclaw_injections_started_total \d+$/m);
  });

  it('with ?wait=true answers 202 and the status so far when the injection has not ended in time', async () => {
    const before = Date.now();
    const response = await request(gw.app).post('/inject-swarm?wait=true&timeoutSeconds=1').set(auth).send({ agents: ['ghost-1'], instruction: GOOD });
    started.push(response.body.injectionId);
    expect(response.status).toBe(202);
    expect(Date.now() - before).toBeGreaterThanOrEqual(1_000);
    const tooLong = await request(gw.app).post('/inject-swarm?wait=true&timeoutSeconds=61').set(auth).send({ agents: ['ghost-1'], instruction: GOOD });
    expect(tooLong.status).toBe(400);
    expect(tooLong.body.error.details.problems[0].field).toBe('timeoutSeconds');
  });
});

describe('watching and steering', () => {
  it('answers 404 for an unknown injection on every per-injection route, and 400 for a malformed id', async () => {
    const id = 'never-started-123';
    for (const call of [
      request(gw.app).get(`/injections/${id}`),
      request(gw.app).post(`/injections/${id}/pause`),
      request(gw.app).post(`/injections/${id}/resume`),
      request(gw.app).post(`/injections/${id}/abort`),
      request(gw.app).patch(`/injections/${id}`).send({ maxParallel: 3 }),
    ]) {
      const response = await call.set(auth);
      expect(response.status).toBe(404);
      expect(response.body.error.code).toBe('INJECTION_NOT_FOUND');
    }
    const malformed = await request(gw.app).get('/injections/bad%20id').set(auth);
    expect(malformed.status).toBe(400);
  });

  it('pauses, resumes and aborts a running injection (202), and the signals reach its history', async () => {
    const { body } = await startSwarm();
    const id: string = body.injectionId;
    expect((await request(gw.app).post(`/injections/${id}/pause`).set(auth)).status).toBe(202);
    expect((await request(gw.app).post(`/injections/${id}/resume`).set(auth)).status).toBe(202);
    const abort = await request(gw.app).post(`/injections/${id}/abort`).set(auth).send({ reason: 'wrong program' });
    expect(abort.status).toBe(202);
    expect(abort.body).toMatchObject({ accepted: 'abort', reason: 'wrong program' });
    const history = await gw.client.workflow.getHandle(id).fetchHistory();
    const signals = (history.events ?? []).filter((e) => e.workflowExecutionSignaledEventAttributes).map((e) => e.workflowExecutionSignaledEventAttributes?.signalName);
    expect(signals).toEqual(['pause', 'resume', 'abort']);
  });

  it('validates PATCH maxParallel, and answers 503 when no worker answers the update or the progress query', async () => {
    const { body } = await startSwarm();
    const id: string = body.injectionId;
    for (const bad of [{}, { maxParallel: 0 }, { maxParallel: 1.5 }, { maxParallel: '4' }, { maxParallel: 4, extra: 1 }]) {
      const response = await request(gw.app).patch(`/injections/${id}`).set(auth).send(bad);
      expect(response.status).toBe(400);
    }
    const update = await request(gw.app).patch(`/injections/${id}`).set(auth).send({ maxParallel: 4 });
    expect(update.status).toBe(503);
    expect(update.body.error.code).toBe('WORKERS_UNAVAILABLE');
    const status = await request(gw.app).get(`/injections/${id}`).set(auth);
    expect(status.status).toBe(503);
  });

  it('answers 409 INJECTION_CLOSED when steering a closed injection, and shows it closed', async () => {
    const { body } = await startSwarm();
    const id: string = body.injectionId;
    await gw.client.workflow.getHandle(id).terminate('operator ended it');
    const pause = await request(gw.app).post(`/injections/${id}/pause`).set(auth);
    expect(pause.status).toBe(409);
    expect(pause.body.error.code).toBe('INJECTION_CLOSED');
    const status = await request(gw.app).get(`/injections/${id}`).set(auth);
    expect(status.status).toBe(200);
    expect(status.body).toMatchObject({ injectionId: id, workflowStatus: 'TERMINATED', status: 'terminated', done: true });
  });

  it('validates paging of GET /injections/:id', async () => {
    const { body } = await startSwarm();
    const response = await request(gw.app).get(`/injections/${body.injectionId}?limit=501&offset=-1&bogus=1`).set(auth);
    expect(response.status).toBe(400);
    expect(response.body.error.details.problems.map((p: { field: string }) => p.field).sort()).toEqual(['bogus', 'limit', 'offset']);
  });

  it('lists injections from visibility, and validates the filters', async () => {
    const { body } = await startSwarm();
    const listed = await eventually(async () => {
      const response = await request(gw.app).get('/injections?limit=100').set(auth);
      expect(response.status).toBe(200);
      const item = response.body.items.find((i: { injectionId: string }) => i.injectionId === body.injectionId);
      return item as Record<string, unknown> | undefined;
    }, 'the new injection in the list');
    expect(listed).toMatchObject({ workflowStatus: 'RUNNING', statusUrl: `/injections/${body.injectionId}` });
    expect((await request(gw.app).get('/injections?status=exploded').set(auth)).status).toBe(400);
    expect((await request(gw.app).get('/injections?limit=0').set(auth)).status).toBe(400);
    expect((await request(gw.app).get('/injections?agent=bad%20id').set(auth)).status).toBe(400);
    const none = await request(gw.app).get('/injections?agent=nobody-ever&status=succeeded').set(auth);
    expect(none.status).toBe(200);
    expect(none.body.items).toEqual([]);
  });

  it('pages through the list with nextPageToken: every injection once, no page over the limit, and a bad token is a 400', async () => {
    const mine: string[] = [];
    for (let i = 0; i < 3; i++) mine.push((await startSwarm()).body.injectionId as string);
    const seen = await eventually(async () => {
      const ids: string[] = [];
      let token: string | null = null;
      for (let page = 0; page < 500; page++) {
        const response: request.Response = await request(gw.app).get(`/injections?limit=2${token ? `&pageToken=${token}` : ''}`).set(auth);
        expect(response.status).toBe(200);
        expect(response.body.items.length).toBeLessThanOrEqual(2);
        ids.push(...response.body.items.map((i: { injectionId: string }) => i.injectionId));
        token = response.body.nextPageToken;
        if (token === null) break;
      }
      expect(token).toBeNull();
      return mine.every((id) => ids.includes(id)) ? ids : undefined;
    }, 'all three new injections across the pages', 60_000);
    expect(new Set(seen).size).toBe(seen.length);

    for (const bad of ['not+base64url', 'x'.repeat(4097)]) {
      const response = await request(gw.app).get(`/injections?pageToken=${encodeURIComponent(bad)}`).set(auth);
      expect(response.status).toBe(400);
      expect(response.body.error.details.problems).toEqual([expect.objectContaining({ field: 'pageToken' })]);
    }
    const forged = await request(gw.app).get('/injections?pageToken=Zm9yZ2Vk').set(auth);
    expect(forged.status).toBe(400);
    expect(forged.body.error).toMatchObject({ code: 'INVALID_REQUEST', details: { problems: [{ field: 'pageToken' }] } });
    // A real token belongs to its list: with another limit or filter it is refused, not misread.
    const first = await request(gw.app).get('/injections?limit=1').set(auth);
    expect(first.body.nextPageToken).toEqual(expect.any(String));
    const elsewhere = await request(gw.app).get(`/injections?limit=3&pageToken=${first.body.nextPageToken}`).set(auth);
    expect(elsewhere.status).toBe(400);
    expect(elsewhere.body.error.message).toMatch(/not the nextPageToken of this list/);
    expect((await request(gw.app).get(`/injections?limit=1&pageToken=${first.body.nextPageToken}`).set(auth)).status).toBe(200);
  });

  it('GET /history/:agentId answers an empty history for an unknown agent and validates its input', async () => {
    const empty = await request(gw.app).get('/history/nobody-ever').set(auth);
    expect(empty.status).toBe(200);
    expect(empty.body).toEqual({ agentId: 'nobody-ever', total: 0, showing: 0, history: [], nextPageToken: null });
    expect((await request(gw.app).get('/history/nobody?limit=101').set(auth)).status).toBe(400);
    expect((await request(gw.app).get('/history/bad%20id').set(auth)).status).toBe(400);
  });
});

describe('POST /compile, GET /metrics, GET /openapi.json', () => {
  it('compiles without starting anything: bytecode, disassembly, rollout and the targets it would hit', async () => {
    const response = await request(gw.app)
      .post('/compile')
      .set(auth)
      .send({ instruction: 'REDUCE_COSTS BY 15% {\n  MAX_PARALLEL: 4\n}', agents: ['ghost-a', 'ghost-b'] });
    expect(response.status).toBe(200);
    expect(Buffer.from(response.body.bytecode, 'base64').length).toBe(response.body.bytes);
    expect(response.body.disassembly).toContain('; OpenClaw bytecode v2');
    // Not a signing oracle: what /compile returns is an unsigned dry run that no agent accepts.
    expect(response.body.disassembly).toContain('; signature none: an unsigned dry run, no agent accepts it');
    expect(response.body.rollout).toMatchObject({ maxParallel: 4, target: null });
    expect(response.body.targets).toEqual({ selector: { agentIds: ['ghost-a', 'ghost-b'] }, agents: [], missing: ['ghost-a', 'ghost-b'] });
    const targetOnly = await request(gw.app).post('/compile').set(auth).send({ instruction: 'REDUCE_COSTS BY 1% {\n  TARGET: empty_group\n}' });
    expect(targetOnly.body.targets).toEqual({ selector: { group: 'empty_group' }, agents: [], missing: [] });
  });

  it('answers a bad program with 400 and its diagnostics', async () => {
    const response = await request(gw.app).post('/compile').set(auth).send({ instruction: 'REDUCE_COSTS BY\n' });
    expect(response.status).toBe(400);
    expect(response.body.error.details.diagnostics[0]).toMatchObject({ code: 'SYNTAX_ERROR', line: 1, column: 16 });
  });

  it('serves Prometheus text with the injection counters and the step histogram', async () => {
    const response = await request(gw.app).get('/metrics').set(auth);
    expect(response.status).toBe(200);
    expect(response.headers['content-type']).toMatch(/^text\/plain/);
    for (const name of ['started', 'succeeded', 'failed', 'rolled_back']) expect(response.text).toContain(`# TYPE openclaw_injections_${name}_total counter`);
    expect(response.text).toContain('# TYPE openclaw_agent_step_duration_seconds histogram');
  });

  it('serves the OpenAPI document', async () => {
    const response = await request(gw.app).get('/openapi.json').set(auth);
    expect(response.status).toBe(200);
    expect(response.body.openapi).toBe('3.1.0');
  });
});

describe('rate limit on mutating routes', () => {
  it('answers 429 with Retry-After once a token has spent its burst, and leaves reads alone', async () => {
    const limited = await testGateway({ overrides: { rateLimit: { burstRequests: 2, refillPerSecond: 0.01 } } });
    try {
      const bad = { instruction: 'REDUCE_COSTS BY\n', agents: ['a'] };
      expect((await request(limited.app).post('/inject-swarm').set(auth).send(bad)).status).toBe(400);
      expect((await request(limited.app).post('/inject-swarm').set(auth).send(bad)).status).toBe(400);
      const third = await request(limited.app).post('/inject-swarm').set(auth).send(bad);
      expect(third.status).toBe(429);
      expect(third.body.error.code).toBe('RATE_LIMITED');
      expect(Number(third.headers['retry-after'])).toBeGreaterThan(0);
      expect((await request(limited.app).post('/injections/x/pause').set(auth)).status).toBe(429);
      const otherToken = await request(limited.app).post('/inject-swarm').set('Authorization', `Bearer ${OTHER_TOKEN}`).send(bad);
      expect(otherToken.status).toBe(400);
      expect((await request(limited.app).get('/injections/x').set(auth)).status).toBe(404);
    } finally {
      await limited.close();
    }
  });
});
