// Every gateway route and its error paths, through supertest, on the run's dev server with no workers polling:
// started injections stay running, so steering is observable and nothing touches an agent.
import { createHash } from 'node:crypto';
import { defaultPayloadConverter } from '@temporalio/common';
import request from 'supertest';
import { MAX_BODY_BYTES } from '../../src/gateway/app';
import { tokenPrincipal } from '../../src/gateway/auth';
import { createLogger } from '../../src/shared/logger';
import { auth, eventually, OTHER_TOKEN, TestGateway, testGateway, TOKEN, UNLIMITED } from './support';

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
  it('serves /livez, /readyz and /health without a token, and tells nothing but ok or not', async () => {
    const live = await request(gw.app).get('/livez');
    expect([live.status, live.body]).toEqual([200, { status: 'ok' }]);
    const ready = await request(gw.app).get('/readyz');
    expect([ready.status, ready.body]).toEqual([200, { status: 'ok' }]);
    // No worker polls this test's queues: /health says so, and names neither the queues nor any version or address.
    const health = await request(gw.app).get('/health');
    expect(health.status).toBe(503);
    expect(health.body).toEqual({ status: 'unavailable', parts: { temporal: { ok: true }, worker: { ok: false } } });
    expect(JSON.stringify(health.body)).not.toContain(gw.config.taskQueue);
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
    const lines: Array<Record<string, unknown>> = [];
    const logger = createLogger({ level: 'info', component: 'gateway-test', write: (line) => lines.push(JSON.parse(line) as Record<string, unknown>) });
    const failure = new Error('secret internals at /srv/app.js:12', { cause: new Error('the socket closed') });
    const broken = await testGateway({ overrides: { logger, injections: { ...gw.injections, list: async () => { throw failure; } } } });
    try {
      const response = await request(broken.app).get('/injections').set(auth).set('X-Request-Id', 'req-broken-1');
      expect(response.status).toBe(500);
      expect(response.body).toEqual({ error: { code: 'INTERNAL', message: expect.any(String) } });
      expect(JSON.stringify(response.body)).not.toMatch(/secret|app\.js|at /);
      // The log has what the client does not: the stack and the cause chain, under the request's id.
      const logged = lines.find((l) => l.msg === 'request failed');
      expect(logged).toMatchObject({ requestId: 'req-broken-1', err: { message: failure.message, stack: expect.stringContaining('routes.test'), cause: { message: 'the socket closed' } } });
    } finally {
      await broken.close();
    }
  });

  it('gives every answer a request id (a sane incoming one kept) and logs one access line per request without the query', async () => {
    const lines: Array<Record<string, unknown>> = [];
    const logger = createLogger({ level: 'info', component: 'gateway-test', write: (line) => lines.push(JSON.parse(line) as Record<string, unknown>) });
    const logged = await testGateway({ overrides: { logger } });
    try {
      const kept = await request(logged.app).get('/injections?limit=1&pageToken=secret-looking').set(auth).set('X-Request-Id', 'ci-run-7.step:3');
      expect(kept.headers['x-request-id']).toBe('ci-run-7.step:3');
      const replaced = await request(logged.app).get('/livez').set('X-Request-Id', 'bad id\twith spaces and more');
      expect(replaced.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
      const unauthenticated = await request(logged.app).get('/injections');
      expect(unauthenticated.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
      const access = await eventually(async () => {
        const found = lines.filter((l) => l.msg === 'request');
        return found.length >= 3 ? found : undefined;
      }, 'three access lines');
      expect(access).toEqual([
        expect.objectContaining({ requestId: 'ci-run-7.step:3', method: 'GET', path: '/injections', status: 400, ms: expect.any(Number), principal: tokenPrincipal(TOKEN) }),
        expect.objectContaining({ requestId: replaced.headers['x-request-id'], method: 'GET', path: '/livez', status: 200, principal: '-' }),
        expect.objectContaining({ requestId: unauthenticated.headers['x-request-id'], path: '/injections', status: 401, principal: '-' }),
      ]);
      expect(JSON.stringify(lines)).not.toContain('secret-looking');
      expect(JSON.stringify(lines)).not.toContain(TOKEN);
    } finally {
      await logged.close();
    }
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

  it('pauses, resumes and aborts a running injection (202); each signal carries the token\'s principal and the request id', async () => {
    const { body } = await startSwarm();
    const id: string = body.injectionId;
    const me = tokenPrincipal(TOKEN);
    const pause = await request(gw.app).post(`/injections/${id}/pause`).set(auth).set('X-Request-Id', 'req-pause');
    expect([pause.status, pause.body.by]).toEqual([202, me]);
    expect((await request(gw.app).post(`/injections/${id}/resume`).set(auth).set('X-Request-Id', 'req-resume')).status).toBe(202);
    // A reason that claims to be someone else stays the caller's text; who aborted comes from the token.
    const claim = `aborted by ${tokenPrincipal(OTHER_TOKEN)}`;
    const abort = await request(gw.app).post(`/injections/${id}/abort`).set(auth).set('X-Request-Id', 'req-abort').send({ reason: claim });
    expect(abort.status).toBe(202);
    expect(abort.body).toMatchObject({ accepted: 'abort', reason: claim, by: me });
    const history = await gw.client.workflow.getHandle(id).fetchHistory();
    const signals = (history.events ?? [])
      .map((e) => e.workflowExecutionSignaledEventAttributes)
      .filter((a) => a)
      .map((a) => ({ name: a?.signalName, args: (a?.input?.payloads ?? []).map((p) => defaultPayloadConverter.fromPayload(p)) }));
    expect(signals).toEqual([
      { name: 'pause', args: [{ by: me, requestId: 'req-pause' }] },
      { name: 'resume', args: [{ by: me, requestId: 'req-resume' }] },
      { name: 'abort', args: [claim, { by: me, requestId: 'req-abort' }] },
    ]);
    const memo = (await gw.client.workflow.getHandle(id).describe()).memo;
    expect(memo).toMatchObject({ requestedBy: me, requestId: expect.any(String) });
    expect(memo?.targetGroup ?? null).toBeNull();
  });

  it('sends no reason when the abort gives none: the principal alone says who', async () => {
    const { body } = await startSwarm();
    const abort = await request(gw.app).post(`/injections/${body.injectionId}/abort`).set(auth);
    expect(abort.body).toMatchObject({ accepted: 'abort', reason: null, by: tokenPrincipal(TOKEN) });
    const history = await gw.client.workflow.getHandle(body.injectionId).fetchHistory();
    const abortSignal = (history.events ?? []).map((e) => e.workflowExecutionSignaledEventAttributes).find((a) => a?.signalName === 'abort');
    const args = (abortSignal?.input?.payloads ?? []).map((p) => defaultPayloadConverter.fromPayload(p));
    expect(args).toEqual([undefined, { by: tokenPrincipal(TOKEN), requestId: expect.any(String) }]);
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

  it('seals page tokens with a keyed MAC: a token re-sealed with an unkeyed hash for another list is refused', async () => {
    for (let i = 0; i < 2; i++) await startSwarm();
    const first = await eventually(async () => {
      const response = await request(gw.app).get('/injections?limit=1').set(auth);
      return typeof response.body.nextPageToken === 'string' ? (response.body.nextPageToken as string) : undefined;
    }, 'a list with a second page');
    const inner = Buffer.from(first, 'base64url').subarray(17);
    // What anyone could compute when the seal was an unkeyed SHA-256: the same inner token bound to limit=3.
    const query = 'WorkflowType = "swarmInjectionWorkflow" AND ExecutionStatus != "ContinuedAsNew"';
    for (const version of [1, 2]) {
      const digest = createHash('sha256').update(`${query}\n3\n`).update(inner).digest().subarray(0, 16);
      const forged = Buffer.concat([Buffer.from([version]), digest, inner]).toString('base64url');
      const response = await request(gw.app).get(`/injections?limit=3&pageToken=${forged}`).set(auth);
      expect([response.status, response.body.error.details.problems[0].field]).toEqual([400, 'pageToken']);
    }
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
  it('compiles without starting anything: bytecode, disassembly and rollout, marked as a dry run', async () => {
    const response = await request(gw.app).post('/compile').set(auth).send({ instruction: 'REDUCE_COSTS BY 15% {\n  MAX_PARALLEL: 4\n}' });
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ ok: true, dryRun: true, programId: 'dry-run', signature: expect.stringContaining('no agent accepts') });
    expect(Buffer.from(response.body.bytecode, 'base64').length).toBe(response.body.bytes);
    expect(response.body.disassembly).toContain('; OpenClaw bytecode v2');
    // Not a signing oracle: what /compile returns is an unsigned dry run that no agent accepts.
    expect(response.body.disassembly).toContain('; signature none: an unsigned dry run, no agent accepts it');
    expect(response.body.rollout).toMatchObject({ maxParallel: 4, target: null });
    expect(response.body.targets).toEqual({ selector: null, agents: [], missing: [], error: expect.stringContaining('no targets') });
  });

  it('asks a worker for the targets it would hit, and answers 503 WORKERS_UNAVAILABLE when none answers', async () => {
    for (const body of [
      { instruction: 'REDUCE_COSTS BY 15%', agents: ['ghost-a'] },
      { instruction: 'REDUCE_COSTS BY 1% {\n  TARGET: empty_group\n}' },
    ]) {
      const response = await request(gw.app).post('/compile').set(auth).send(body);
      expect([response.status, response.body.error?.code]).toEqual([503, 'WORKERS_UNAVAILABLE']);
    }
  });

  it('answers a bad program with 400 and its diagnostics', async () => {
    const response = await request(gw.app).post('/compile').set(auth).send({ instruction: 'REDUCE_COSTS BY\n' });
    expect(response.status).toBe(400);
    expect(response.body.error.details.diagnostics[0]).toMatchObject({ code: 'SYNTAX_ERROR', line: 1, column: 16 });
  });

  it('serves Prometheus text: the gateway\'s own request counters and latency histogram, by route pattern', async () => {
    await request(gw.app).get('/injections/some-id-1').set(auth);
    const response = await request(gw.app).get('/metrics').set(auth);
    expect(response.status).toBe(200);
    expect(response.headers['content-type']).toMatch(/^text\/plain/);
    expect(response.text).toContain('# TYPE openclaw_injections_started_total counter');
    expect(response.text).toContain('# TYPE openclaw_gateway_requests_total counter');
    expect(response.text).toMatch(/^openclaw_gateway_requests_total\{method="GET",route="\/injections\/:id",status="404"\} [1-9]/m);
    expect(response.text).toMatch(/^openclaw_gateway_request_duration_seconds_count\{method="GET",route="\/injections\/:id"\} [1-9]/m);
    expect(response.text).not.toContain('some-id-1');
    // Per-injection observation is gone: nothing here costs an RPC.
    expect(response.text).not.toContain('openclaw_agent_step_duration_seconds');
  });

  it('serves the OpenAPI document', async () => {
    const response = await request(gw.app).get('/openapi.json').set(auth);
    expect(response.status).toBe(200);
    expect(response.body.openapi).toBe('3.1.0');
  });
});

describe('rate limits', () => {
  it('answers 429 with Retry-After once a token has spent its mutating burst, and leaves reads alone', async () => {
    const limited = await testGateway({ overrides: { rateLimits: { mutating: { burstRequests: 2, refillPerSecond: 0.01 }, compile: UNLIMITED, read: UNLIMITED } } });
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

  it('limits POST /compile and the read routes too, each with its own bucket', async () => {
    const limited = await testGateway({ overrides: { rateLimits: { mutating: UNLIMITED, compile: { burstRequests: 2, refillPerSecond: 0.01 }, read: { burstRequests: 3, refillPerSecond: 0.01 } } } });
    try {
      const compile = () => request(limited.app).post('/compile').set(auth).send({ instruction: 'REDUCE_COSTS BY 15%' });
      expect([(await compile()).status, (await compile()).status]).toEqual([200, 200]);
      const third = await compile();
      expect([third.status, third.body.error.code]).toEqual([429, 'RATE_LIMITED']);
      // The starts compile too, so they spend the same bucket.
      expect((await request(limited.app).post('/inject-swarm').set(auth).send({ agents: ['a'], instruction: 'REDUCE_COSTS BY 15%' })).status).toBe(429);
      const reads = [];
      for (const path of ['/injections/x', '/history/nobody', '/metrics', '/injections']) reads.push((await request(limited.app).get(path).set(auth)).status);
      expect(reads).toEqual([404, 200, 200, 429]);
      expect((await request(limited.app).get('/livez')).status).toBe(200);
    } finally {
      await limited.close();
    }
  });
});

describe('?wait=true', () => {
  it('cancels the result poll when a wait times out: after several timed-out waits no poll is left open', async () => {
    const waits = 4;
    const answers = await Promise.all(
      Array.from({ length: waits }, () => request(gw.app).post('/inject-swarm?wait=true&timeoutSeconds=1').set(auth).send({ agents: ['ghost-1'], instruction: GOOD })),
    );
    for (const answer of answers) {
      started.push(answer.body.injectionId);
      expect(answer.status).toBe(202);
    }
    // Each injection is still running (no worker), so a poll left behind would stay open until its deadline.
    await eventually(async () => (gw.injections.openPolls() === 0 ? true : undefined), 'every result poll to end', 5_000);
    expect(gw.injections.openPolls()).toBe(0);
  });

  it('refuses a waited start past MAX_CONCURRENT_WAITS with 503 TOO_MANY_WAITS, before starting anything', async () => {
    const small = await testGateway({ service: { maxConcurrentWaits: 1 } });
    try {
      const first = request(small.app).post('/inject-swarm?wait=true&timeoutSeconds=3').set(auth).send({ agents: ['ghost-1'], instruction: GOOD });
      const firstDone = first.then((r) => r);
      await eventually(async () => (small.injections.openPolls() === 1 ? true : undefined), 'the first wait to begin');
      const second = await request(small.app).post('/inject-swarm?wait=true').set(auth).send({ agents: ['ghost-2'], instruction: GOOD });
      expect([second.status, second.body.error.code, second.headers['retry-after']]).toEqual([503, 'TOO_MANY_WAITS', expect.any(String)]);
      expect(second.body.injectionId).toBeUndefined();
      // Without wait there is no slot to take.
      const unwaited = await request(small.app).post('/inject-swarm').set(auth).send({ agents: ['ghost-2'], instruction: GOOD });
      expect(unwaited.status).toBe(202);
      started.push(unwaited.body.injectionId);
      const firstAnswer = await firstDone;
      started.push(firstAnswer.body.injectionId);
      expect(firstAnswer.status).toBe(202);
      expect(small.injections.openPolls()).toBe(0);
    } finally {
      await small.close();
    }
  });
});
