// Hostile requests against the real gateway app (in-process, the run's dev server, no workers): malformed JSON, wrong
// types, huge values, unicode, prototype keys, path-like ids and shell metacharacters in every field of every route.
// Each is answered 4xx with the stable error shape, the process never throws, and no child process is ever started.
import child_process from 'node:child_process';
import fc from 'fast-check';
import request from 'supertest';
import { AGENT_ID_PATTERN } from '../../src/shared/injection-types';
import { auth, TestGateway, testGateway } from '../gateway/support';

let gw: TestGateway;
const spawned: string[] = [];
const uncaught: unknown[] = [];
const onUncaught = (err: unknown) => uncaught.push(err);
const SPAWNING = ['spawn', 'spawnSync', 'exec', 'execSync', 'execFile', 'execFileSync', 'fork'] as const;

beforeAll(async () => {
  gw = await testGateway();
  for (const name of SPAWNING) jest.spyOn(child_process, name).mockImplementation(((...args: unknown[]) => {
    spawned.push(`${name} ${JSON.stringify(args[0])}`);
    throw new Error(`the gateway tried to start a process: ${name}`);
  }) as never);
  process.on('uncaughtException', onUncaught);
  process.on('unhandledRejection', onUncaught);
});

afterAll(async () => {
  jest.restoreAllMocks();
  process.off('uncaughtException', onUncaught);
  process.off('unhandledRejection', onUncaught);
  await gw?.close();
});

const GOOD = 'REDUCE_COSTS BY 15%';
const ID_FIELDS = new Set(['agentId', 'agents', 'group']);

/** Strings an attacker tries in any field; none is a valid agent id, group, program or priority. */
const HOSTILE_STRINGS = [
  '',
  '../../etc/passwd',
  '..',
  '/',
  '/etc/shadow',
  'a/../../b',
  '..\\..\\windows',
  '$(reboot)',
  '`id`',
  '; rm -rf / ;',
  '| cat /etc/passwd',
  '&& curl http://127.0.0.1:1/x',
  "' OR '1'='1",
  '"; DROP TABLE agents; --',
  '%00',
  'a\u0000b',
  '\u202egnp.exe',
  '𝔘𝔫𝔦𝔠𝔬𝔡𝔢 ✓ 日本語',
  '\ud800',
  'A'.repeat(70_000),
  '${process.env.HOME}',
  '{{constructor.constructor("return process")()}}',
  '__proto__',
  'constructor',
  '\r\nX-Injected: 1',
];
/** Values of the wrong type for any field. */
const WRONG_TYPES: unknown[] = [null, 0, -1, 1e308, true, [], {}, ['a', 1], { $gt: '' }, Array.from({ length: 30_000 }, (_, i) => `agent-${i}`)];

interface Route {
  method: 'post' | 'patch' | 'get';
  path: string;
  base: Record<string, unknown>;
  fields: string[];
}

const ROUTES: Route[] = [
  { method: 'post', path: '/inject', base: { agentId: 'ghost-1', instruction: GOOD, priority: 'high' }, fields: ['agentId', 'instruction', 'priority', 'context'] },
  { method: 'post', path: '/inject-swarm', base: { agents: ['ghost-1'], instruction: GOOD }, fields: ['agents', 'group', 'instruction', 'priority', 'context'] },
  { method: 'post', path: '/compile', base: { instruction: GOOD }, fields: ['instruction', 'agents', 'group', 'context'] },
  { method: 'patch', path: '/injections/ghost-injection', base: { maxParallel: 5 }, fields: ['maxParallel'] },
  { method: 'post', path: '/injections/ghost-injection/abort', base: { reason: 'x' }, fields: ['reason'] },
];

let requests = 0;

async function send(route: Pick<Route, 'method' | 'path'>, body: unknown, raw = false) {
  requests += 1;
  const r = request(gw.app)[route.method](route.path).set(auth);
  if (raw) return r.set('Content-Type', 'application/json').send(body as string);
  return r.send(body as object);
}

/** A 4xx in the stable shape `{error: {code, message}}`, with a message that says something. */
function expectClearRefusal(response: request.Response, what: string): void {
  const shape = { status: response.status, code: typeof response.body?.error?.code, message: typeof response.body?.error?.message };
  expect({ what, ...shape }).toEqual({ what, status: expect.any(Number), code: 'string', message: 'string' });
  if (response.status < 400 || response.status >= 500) throw new Error(`${what}: answered ${response.status} ${JSON.stringify(response.body).slice(0, 300)}`);
  expect(String(response.body.error.message).length).toBeGreaterThan(5);
  expect(JSON.stringify(response.body)).not.toMatch(/\bat .+\.(ts|js):\d+/); // no stack trace
}

describe('gateway under hostile input', () => {
  it('refuses malformed JSON on every body route', async () => {
    const bodies = ['{', '{"agentId":', '[1,2', '{"a":1}}', 'nul', '{"agentId":"a" "instruction":"b"}', "{'single':'quotes'}", '\u0000', '"just a string"', '123', 'true'];
    for (const route of ROUTES) {
      for (const body of bodies) expectClearRefusal(await send(route, body, true), `${route.path} ← ${JSON.stringify(body)}`);
    }
  });

  it('refuses a hostile string or a wrong type in every field of every route', async () => {
    for (const route of ROUTES) {
      for (const field of route.fields) {
        for (const value of [...HOSTILE_STRINGS, ...WRONG_TYPES]) {
          // A string or an object in `context` is data, not a field: only the compile dry run takes one (checked below).
          if (field === 'context' && (typeof value === 'string' || (typeof value === 'object' && value !== null && !Array.isArray(value)))) continue;
          // A hostile-looking string that is nevertheless a well-formed id ('constructor') is a valid id: skipped.
          if (ID_FIELDS.has(field) && (typeof value === 'string' ? AGENT_ID_PATTERN.test(value) : Array.isArray(value) && value.length > 0 && value.every((v) => typeof v === 'string' && AGENT_ID_PATTERN.test(v)))) continue;
          const body = { ...route.base, [field]: value };
          if (field === 'group') delete (body as Record<string, unknown>).agents;
          const response = await send(route, body);
          expectClearRefusal(response, `${route.method} ${route.path} ${field}=${JSON.stringify(value)?.slice(0, 60)}`);
        }
      }
    }
  });

  it('refuses hostile strings as list items and prototype keys at any depth of context', async () => {
    for (const value of HOSTILE_STRINGS.filter((v) => !AGENT_ID_PATTERN.test(v))) {
      expectClearRefusal(await send(ROUTES[1], { instruction: GOOD, agents: ['ghost-1', value] }), `agents item ${JSON.stringify(value.slice(0, 40))}`);
    }
    for (const key of ['__proto__', 'constructor', 'prototype']) {
      for (const depth of [0, 1, 5]) {
        let context = `{"${key}":{"polluted":true}}`;
        for (let i = 0; i < depth; i++) context = `{"d${i}":${context}}`;
        const raw = `{"agentId":"ghost-1","instruction":${JSON.stringify(GOOD)},"context":${context}}`;
        expectClearRefusal(await send(ROUTES[0], raw, true), `context ${key} at depth ${depth}`);
      }
    }
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('refuses path-like and hostile ids in the path of every route that takes one', async () => {
    const ids = ['..', '..%2F..%2Fetc%2Fpasswd', '%2F', '%2e%2e', '$(id)', '%60id%60', '%3B%20ls', 'a%00b', 'A'.repeat(300), '%F0%9D%94%98'];
    for (const id of ids) {
      for (const route of [
        { method: 'get' as const, path: `/injections/${id}` },
        { method: 'get' as const, path: `/history/${id}` },
        { method: 'post' as const, path: `/injections/${id}/pause` },
        { method: 'post' as const, path: `/injections/${id}/abort` },
        { method: 'patch' as const, path: `/injections/${id}` },
      ]) {
        expectClearRefusal(await send(route, { maxParallel: 2 }), `${route.method} ${route.path.slice(0, 80)}`);
      }
    }
  });

  it('refuses oversize bodies with 413 and deep nesting without falling over', async () => {
    const huge = JSON.stringify({ agentId: 'ghost-1', instruction: 'X'.repeat(300 * 1024) });
    const response = await send(ROUTES[0], huge, true);
    expect(response.status).toBe(413);
    expectClearRefusal(response, 'a 300 KiB body');
    const deep = `{"agentId":"ghost-1","instruction":"${GOOD}","context":${'{"a":'.repeat(5_000)}1${'}'.repeat(5_000)}}`;
    // Regression: this was a 500 (JSON.stringify overflowed the stack measuring the context).
    const refused = await send(ROUTES[0], deep, true);
    expectClearRefusal(refused, '5,000 levels of context');
    expect(refused.body.error.message).toMatch(/nests deeper than 32 levels/);
  });

  it('refuses random JSON bodies on every route (fast-check)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...ROUTES), fc.oneof(fc.json(), fc.string({ unit: 'binary', maxLength: 200 })), async (route, raw) => {
        expectClearRefusal(await send(route, raw, true), `${route.path} ← ${raw.slice(0, 80)}`);
      }),
      { numRuns: 600 },
    );
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...ROUTES), fc.dictionary(fc.constantFrom('agentId', 'agents', 'group', 'instruction', 'priority', 'context', 'maxParallel', 'reason', '__proto__', 'constructor'), fc.anything({ maxDepth: 2 })), async (route, body) => {
        const response = await send(route, body);
        // Random values could, very rarely, form a valid request; anything else must be a clear refusal.
        if (response.status >= 200 && response.status < 300) return;
        expectClearRefusal(response, `${route.path} ← ${JSON.stringify(body).slice(0, 80)}`);
      }),
      { numRuns: 600 },
    );
  });

  it('accepts shell metacharacters in context values only as data, in a dry run that starts nothing', async () => {
    for (const value of HOSTILE_STRINGS.filter((v) => v.length < 1_000)) {
      const response = await send(ROUTES[2], { instruction: GOOD, context: { note: value } });
      expect(response.status).toBe(200);
    }
  });

  afterAll(() => {
    // Checked after every case ran: no process start, no stray exception, and the app still serves.
    expect(spawned).toEqual([]);
    expect(uncaught).toEqual([]);
    console.log(`gateway-fuzz: ${requests} hostile requests, 0 non-4xx refusals, 0 processes started, 0 uncaught errors`);
  });
});
