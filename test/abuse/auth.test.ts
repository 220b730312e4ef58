// Every mutating route refuses a request without a token (401) or with a wrong one (403), and tokens are compared as
// SHA-256 digests in constant time: no early exit on length or on the first matching token.
import crypto from 'node:crypto';
import request from 'supertest';
import { tokenMatches } from '../../src/gateway/auth';
import { OTHER_TOKEN, TestGateway, testGateway, TOKEN } from '../gateway/support';

let gw: TestGateway;

beforeAll(async () => {
  gw = await testGateway();
});

afterAll(async () => {
  jest.restoreAllMocks();
  await gw?.close();
});

const MUTATING = [
  { method: 'post', path: '/inject', body: { agentId: 'ghost-1', instruction: 'REDUCE_COSTS BY 15%' } },
  { method: 'post', path: '/inject-swarm', body: { agents: ['ghost-1'], instruction: 'REDUCE_COSTS BY 15%' } },
  { method: 'post', path: '/injections/some-injection/pause', body: {} },
  { method: 'post', path: '/injections/some-injection/resume', body: {} },
  { method: 'post', path: '/injections/some-injection/abort', body: { reason: 'x' } },
  { method: 'patch', path: '/injections/some-injection', body: { maxParallel: 3 } },
] as const;

const WRONG_HEADERS = [
  `Bearer ${TOKEN.slice(0, -1)}`,
  `Bearer ${TOKEN}x`,
  `Bearer ${TOKEN.toUpperCase()}`,
  'Bearer x',
  `Bearer ${'t'.repeat(10_000)}`,
  `bearer ${TOKEN}`,
  `Basic ${Buffer.from(`u:${TOKEN}`).toString('base64')}`,
  `Bearer  ${TOKEN}`,
  `Bearer ${TOKEN} ${OTHER_TOKEN}`,
  'Bearer',
];

it('every mutating route answers 401 without a token and 403 with a wrong one, and starts nothing', async () => {
  for (const route of MUTATING) {
    const missing = await request(gw.app)[route.method](route.path).send(route.body);
    expect({ route: route.path, status: missing.status, code: missing.body.error?.code }).toEqual({ route: route.path, status: 401, code: 'UNAUTHENTICATED' });
    for (const header of WRONG_HEADERS) {
      const wrong = await request(gw.app)[route.method](route.path).set('Authorization', header).send(route.body);
      expect({ route: route.path, header: header.slice(0, 40), status: wrong.status }).toEqual({ route: route.path, header: header.slice(0, 40), status: 403 });
      expect(wrong.body.error.code).toBe('FORBIDDEN');
    }
  }
  expect(gw.metrics.render()).toMatch(/openclaw_injections_started_total 0\b/);
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
