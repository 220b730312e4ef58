// Every route checks its token and its scope: 401 without a token, 403 FORBIDDEN with a wrong one, 403 FORBIDDEN_SCOPE
// naming the scope with a token that lacks it, and group-limited tokens reach only their groups. Tokens are compared
// as SHA-256 digests in constant time: no early exit on length or on the first matching token.
import crypto from 'node:crypto';
import { defaultPayloadConverter } from '@temporalio/common';
import request from 'supertest';
import { tokenMatches, tokenPrincipal } from '../../src/gateway/auth';
import { Scope, SCOPES } from '../../src/shared/api-tokens';
import { eventually, OTHER_TOKEN, TestGateway, testGateway, TOKEN } from '../gateway/support';

const scoped = (name: string) => name.padEnd(40, name[0]);
/** One token per scope, a token with none of a route's scope, and group-limited ones. */
const TOKENS: Record<Scope, string> = { read: scoped('reader'), compile: scoped('compiler'), inject: scoped('injector'), steer: scoped('steerer') };
const INJECT_BLUE = scoped('blue-injector');
const STEER_BLUE = scoped('blue-steerer');
const BLUE = 'blue-team';
const RED = 'red-team';

let gw: TestGateway;
const started: string[] = [];

beforeAll(async () => {
  const entries = [TOKEN, OTHER_TOKEN, ...SCOPES.map((s) => `${TOKENS[s]}@${s}`), `${INJECT_BLUE}@inject:${BLUE}+read`, `${STEER_BLUE}@steer:${BLUE}|other-team`];
  gw = await testGateway({ apiTokens: entries.join(','), callTimeoutMs: 1_500 });
});

afterAll(async () => {
  jest.restoreAllMocks();
  await Promise.all(started.map((id) => gw.client.workflow.getHandle(id).terminate('test over').catch(() => undefined)));
  await gw?.close();
});

const BAD_PROGRAM = 'REDUCE_COSTS BY\n';
const GOOD = 'REDUCE_COSTS BY 15%';

interface Route {
  method: 'get' | 'post' | 'patch';
  path: string;
  scope: Scope;
  /** A body the route refuses with 400 (or an id it answers 404 for) once past the scope check: nothing starts. */
  body?: object;
}

const ROUTES: Route[] = [
  { method: 'get', path: '/injections', scope: 'read' },
  { method: 'get', path: '/injections/never-started-1', scope: 'read' },
  { method: 'get', path: '/history/nobody-ever', scope: 'read' },
  { method: 'get', path: '/metrics', scope: 'read' },
  { method: 'get', path: '/openapi.json', scope: 'read' },
  { method: 'post', path: '/compile', scope: 'compile', body: { instruction: BAD_PROGRAM } },
  { method: 'post', path: '/inject', scope: 'inject', body: { agentId: 'ghost-1', instruction: BAD_PROGRAM } },
  { method: 'post', path: '/inject-swarm', scope: 'inject', body: { agents: ['ghost-1'], instruction: BAD_PROGRAM } },
  { method: 'post', path: '/injections/never-started-1/pause', scope: 'steer' },
  { method: 'post', path: '/injections/never-started-1/resume', scope: 'steer' },
  { method: 'post', path: '/injections/never-started-1/abort', scope: 'steer', body: { reason: 'x' } },
  { method: 'patch', path: '/injections/never-started-1', scope: 'steer', body: { maxParallel: 3 } },
];

const WRONG_HEADERS = [
  `Bearer ${TOKEN.slice(0, -1)}`,
  `Bearer ${TOKEN}x`,
  `Bearer ${TOKEN.toUpperCase()}`,
  `Bearer ${TOKENS.read}@read`,
  'Bearer x',
  `Bearer ${'t'.repeat(10_000)}`,
  `bearer ${TOKEN}`,
  `Basic ${Buffer.from(`u:${TOKEN}`).toString('base64')}`,
  `Bearer  ${TOKEN}`,
  `Bearer ${TOKEN} ${OTHER_TOKEN}`,
  'Bearer',
];

const call = (route: Pick<Route, 'method' | 'path' | 'body'>, token?: string) => {
  const r = request(gw.app)[route.method](route.path);
  if (token) r.set('Authorization', `Bearer ${token}`);
  return route.body ? r.send(route.body) : r;
};

it('every route answers 401 without a token and 403 FORBIDDEN with a wrong one, and starts nothing', async () => {
  for (const route of ROUTES) {
    const missing = await call(route);
    expect({ route: route.path, status: missing.status, code: missing.body.error?.code }).toEqual({ route: route.path, status: 401, code: 'UNAUTHENTICATED' });
    for (const header of WRONG_HEADERS) {
      const wrong = await request(gw.app)[route.method](route.path).set('Authorization', header).send(route.body);
      expect({ route: route.path, header: header.slice(0, 40), status: wrong.status, code: wrong.body.error?.code }).toEqual({
        route: route.path,
        header: header.slice(0, 40),
        status: 403,
        code: 'FORBIDDEN',
      });
    }
  }
  expect(gw.metrics.render()).toMatch(/openclaw_injections_started_total 0\b/);
});

it('every route answers 403 FORBIDDEN_SCOPE naming its scope to each token without it, and lets each token with it through', async () => {
  for (const route of ROUTES) {
    for (const scope of SCOPES) {
      const response = await call(route, TOKENS[scope]);
      const seen = { route: `${route.method} ${route.path}`, token: scope, status: response.status, code: response.body?.error?.code, scope: response.body?.error?.details?.scope };
      if (scope === route.scope) {
        // Past the scope check: the route's own answer (200, 400 for the bad program, 404 for the unknown injection).
        expect([200, 400, 404]).toContain(response.status);
      } else {
        expect(seen).toEqual({ ...seen, status: 403, code: 'FORBIDDEN_SCOPE', scope: route.scope });
        expect(response.body.error.message).toContain(`${route.scope} scope`);
      }
    }
    // A bare token (no @) has every scope, as before scopes existed.
    expect([200, 400, 404]).toContain((await call(route, TOKEN)).status);
  }
  expect(gw.metrics.render()).toMatch(/openclaw_injections_started_total 0\b/);
});

it('leaves /livez, /readyz and /health open: they tell nothing but ok or not', async () => {
  for (const path of ['/livez', '/readyz', '/health']) expect([200, 503]).toContain((await request(gw.app).get(path)).status);
});

describe('a token whose inject scope is limited to a group', () => {
  const inject = (body: object, token = INJECT_BLUE) => request(gw.app).post('/inject-swarm').set('Authorization', `Bearer ${token}`).send(body);

  it('starts injections on its group, by the request or by the program\'s TARGET, and records the group', async () => {
    const byRequest = await inject({ group: BLUE, instruction: GOOD });
    expect(byRequest.status).toBe(202);
    started.push(byRequest.body.injectionId);
    const byTarget = await inject({ instruction: `REDUCE_COSTS BY 1% {\n  TARGET: ${BLUE}\n}` });
    expect(byTarget.status).toBe(202);
    started.push(byTarget.body.injectionId);
    const memo = (await gw.client.workflow.getHandle(byTarget.body.injectionId).describe()).memo;
    expect(memo).toMatchObject({ targetGroup: BLUE, requestedBy: tokenPrincipal(INJECT_BLUE) });
  });

  it('is refused another group, explicit agent ids and POST /inject, before anything starts', async () => {
    const refusals = [
      await inject({ group: RED, instruction: GOOD }),
      await inject({ instruction: `REDUCE_COSTS BY 1% {\n  TARGET: ${RED}\n}` }),
      await inject({ agents: ['ghost-1'], instruction: GOOD }),
      await request(gw.app).post('/inject').set('Authorization', `Bearer ${INJECT_BLUE}`).send({ agentId: 'ghost-1', instruction: GOOD }),
    ];
    for (const response of refusals) {
      expect([response.status, response.body.error.code, response.body.error.details.scope]).toEqual([403, 'FORBIDDEN_SCOPE', 'inject']);
      expect(response.body.error.message).toContain(`limited to group ${BLUE}`);
      expect(response.body.injectionId).toBeUndefined();
    }
  });

  it('has only the scopes it names: it may read, not steer or compile', async () => {
    expect((await request(gw.app).get('/injections?limit=1').set('Authorization', `Bearer ${INJECT_BLUE}`)).status).toBe(200);
    const steer = await request(gw.app).post('/injections/never-started-1/pause').set('Authorization', `Bearer ${INJECT_BLUE}`);
    expect([steer.status, steer.body.error.details.scope]).toEqual([403, 'steer']);
    const compile = await request(gw.app).post('/compile').set('Authorization', `Bearer ${INJECT_BLUE}`).send({ instruction: GOOD });
    expect([compile.status, compile.body.error.details.scope]).toEqual([403, 'compile']);
  });
});

describe('a token whose steer scope is limited to groups', () => {
  async function startAs(body: object): Promise<string> {
    const response = await request(gw.app).post('/inject-swarm').set('Authorization', `Bearer ${TOKEN}`).send({ instruction: GOOD, ...body });
    expect(response.status).toBe(202);
    started.push(response.body.injectionId);
    return response.body.injectionId as string;
  }
  const steer = (id: string, how: 'pause' | 'resume' | 'abort' | 'patch') => {
    const auth = { Authorization: `Bearer ${STEER_BLUE}` };
    return how === 'patch' ? request(gw.app).patch(`/injections/${id}`).set(auth).send({ maxParallel: 2 }) : request(gw.app).post(`/injections/${id}/${how}`).set(auth);
  };

  it('steers injections on its groups, and the signal names it as the operator', async () => {
    const blue = await startAs({ group: BLUE });
    for (const how of ['pause', 'resume', 'abort'] as const) expect((await steer(blue, how)).status).toBe(202);
    const history = await gw.client.workflow.getHandle(blue).fetchHistory();
    const signals = (history.events ?? []).flatMap((e) => {
      const a = e.workflowExecutionSignaledEventAttributes;
      return a ? [{ name: a.signalName, by: (a.input?.payloads ?? []).map((p) => defaultPayloadConverter.fromPayload<{ by?: string }>(p)).pop()?.by }] : [];
    });
    const by = tokenPrincipal(STEER_BLUE);
    expect(signals).toEqual([{ name: 'pause', by }, { name: 'resume', by }, { name: 'abort', by }]);
  });

  it('is refused injections on another group or on explicit agents, on every steering route', async () => {
    const red = await startAs({ group: RED });
    const explicit = await startAs({ agents: ['ghost-1'] });
    for (const id of [red, explicit]) {
      for (const how of ['pause', 'resume', 'abort', 'patch'] as const) {
        const response = await steer(id, how);
        expect({ id, how, status: response.status, code: response.body.error?.code, scope: response.body.error?.details?.scope }).toEqual({ id, how, status: 403, code: 'FORBIDDEN_SCOPE', scope: 'steer' });
      }
    }
    // Nothing reached the workflows.
    await eventually(async () => {
      const history = await gw.client.workflow.getHandle(red).fetchHistory();
      return (history.events ?? []).length > 0 ? true : undefined;
    }, 'the history of the red injection');
    for (const id of [red, explicit]) {
      const history = await gw.client.workflow.getHandle(id).fetchHistory();
      expect((history.events ?? []).filter((e) => e.workflowExecutionSignaledEventAttributes)).toEqual([]);
    }
  });

  it('cannot read without the read scope', async () => {
    const response = await request(gw.app).get('/injections').set('Authorization', `Bearer ${STEER_BLUE}`);
    expect([response.status, response.body.error.details.scope]).toEqual([403, 'read']);
  });
});

it('compares SHA-256 digests with timingSafeEqual, once per accepted token, whatever the presented length', () => {
  const accepted = [TOKEN, OTHER_TOKEN].map((t) => crypto.createHash('sha256').update(t).digest());
  const spy = jest.spyOn(crypto, 'timingSafeEqual');
  for (const presented of ['', 'x', TOKEN.slice(1), TOKEN, OTHER_TOKEN, 'y'.repeat(100_000)]) {
    spy.mockClear();
    const matched = tokenMatches(presented, accepted);
    expect(matched).toBe(presented === TOKEN || presented === OTHER_TOKEN);
    // Both candidates compared, even when the first matched; always 32-byte digests, never the raw token.
    expect(spy).toHaveBeenCalledTimes(accepted.length);
    for (const [a, b] of spy.mock.calls) {
      expect([(a as Buffer).length, (b as Buffer).length]).toEqual([32, 32]);
      expect((a as Buffer).equals(crypto.createHash('sha256').update(presented).digest())).toBe(true);
    }
  }
  spy.mockRestore();
});
