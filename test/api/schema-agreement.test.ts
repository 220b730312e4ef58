// Validation and GET /openapi.json come from one schema per route: this holds them to each other. Every route the app
// serves is in the document and in the route table; requests drawn from the document's own JSON Schemas are accepted;
// each one broken in one documented rule is refused, naming the field, with a code the document lists for the route.
// Unit tier: the real app with its real validation, and services that fail the test if a refused request reached them.
import express, { Express } from 'express';
import fc from 'fast-check';
import request from 'supertest';
import { createApp } from '../../src/gateway/app';
import { API_ERRORS, ApiErrorCode } from '../../src/gateway/error-codes';
import { createGatewayMetrics } from '../../src/gateway/metrics';
import { createProgramChecker } from '../../src/gateway/program-check';
import { errorsByStatus, openApiDocument, OPENAPI_DOCUMENT } from '../../src/gateway/schema/openapi';
import { ROUTE_LIST, RouteSpec } from '../../src/gateway/schema/routes';
import * as field from '../../src/gateway/schema/fields';
import { handle, validateRequest } from '../../src/gateway/schema/validate';
import { fullGrant } from '../../src/shared/api-tokens';
import { createLogger } from '../../src/shared/logger';
import { z } from 'zod';
import { routesOf } from '../support/express-routes';

type Json = Record<string, unknown>;
interface Operation {
  parameters?: { name: string; in: 'path' | 'query' | 'header'; required?: boolean; schema: Json }[];
  requestBody?: { required: boolean; content: { 'application/json': { schema: Json } } };
  responses: Record<string, { content?: Record<string, { schema: Json }> }>;
  security?: unknown[];
}
const TOKEN = 'a'.repeat(40);
const READ_ONLY = 'r'.repeat(40);
const UNLIMITED = { burstRequests: 100_000, refillPerSecond: 100_000 };

/** A service any test request reaches only if validation let a bad one through: it throws, and the answer is a 500. */
const unreachable = new Proxy({}, { get: (_t, name) => () => Promise.reject(new Error(`validation let a request reach ${String(name)}`)) });

function appUnderTest(): Express {
  return createApp({
    health: { ready: async () => true, health: async () => ({ status: 'ok', parts: { temporal: { ok: true }, worker: { ok: true } } }) },
    apiTokens: [fullGrant(TOKEN), { token: READ_ONLY, scopes: { read: { groups: null } } }],
    logger: createLogger({ level: 'error', component: 'schema-agreement', write: () => {} }),
    injections: unreachable as never,
    programs: createProgramChecker(),
    targets: unreachable as never,
    metrics: createGatewayMetrics(),
    rateLimits: { mutating: UNLIMITED, compile: UNLIMITED, read: UNLIMITED },
  });
}

const operationOf = (doc: Json, spec: Pick<RouteSpec, 'method' | 'path'>) => (doc.paths as Record<string, Record<string, Operation>>)[spec.path][spec.method];

// ---- instances from a JSON Schema (the subset the document uses), and single-rule breaks of them ----

const SAFE_KEY = fc.stringMatching(/^[a-z][a-z0-9_]{0,8}$/);
const SMALL_JSON = fc.oneof(fc.string({ maxLength: 12 }), fc.integer(), fc.boolean(), fc.constant(null));

/** Values the schema accepts, per the document alone. */
function instanceOf(schema: Json): fc.Arbitrary<unknown> {
  if (Array.isArray(schema.enum)) return fc.constantFrom(...(schema.enum as unknown[]));
  switch (schema.type) {
    case 'string': {
      const min = (schema.minLength as number | undefined) ?? 0;
      const max = Math.min((schema.maxLength as number | undefined) ?? 40, 40);
      const base = schema.pattern ? fc.stringMatching(new RegExp(schema.pattern as string)) : fc.string({ minLength: Math.max(min, 1), maxLength: max });
      return base.filter((s) => s.length >= min && s.length <= ((schema.maxLength as number | undefined) ?? Infinity));
    }
    case 'integer':
      return fc.integer({ min: (schema.minimum as number | undefined) ?? -1e6, max: (schema.maximum as number | undefined) ?? 1e6 });
    case 'boolean':
      return fc.boolean();
    case 'array': {
      const min = (schema.minItems as number | undefined) ?? 0;
      return fc.array(instanceOf(schema.items as Json), { minLength: min, maxLength: Math.max(min, 4) });
    }
    case 'object': {
      const properties = (schema.properties ?? {}) as Record<string, Json>;
      if (Object.keys(properties).length === 0) return fc.dictionary(SAFE_KEY, SMALL_JSON, { maxKeys: 4 });
      const required = (schema.required ?? []) as string[];
      const record = fc.record(Object.fromEntries(Object.entries(properties).map(([k, v]) => [k, instanceOf(v)])), { requiredKeys: required as never[] });
      const exclusive = ((schema.not as Json | undefined)?.required ?? []) as string[];
      return exclusive.length === 0 ? record : record.filter((value) => !exclusive.every((k) => (value as Json)[k] !== undefined));
    }
    default:
      throw new Error(`the document uses a schema this test cannot draw from: ${JSON.stringify(schema).slice(0, 200)}`);
  }
}

/** Values that break exactly one rule the schema states (each rule it states gives at least one). */
function breaksOf(schema: Json): unknown[] {
  const wrongType = schema.type === 'string' ? 12345 : schema.type === 'object' ? 'not an object' : 'not-a-number';
  const out: unknown[] = [wrongType];
  if (Array.isArray(schema.enum)) out.push('surely-not-a-choice');
  if (schema.type === 'string') {
    if (schema.minLength !== undefined) out.push('');
    if (schema.pattern) out.push('bad value!/..', ' ');
    if (schema.maxLength !== undefined) out.push('a'.repeat((schema.maxLength as number) + 1));
  }
  if (schema.type === 'integer') {
    if (schema.minimum !== undefined) out.push((schema.minimum as number) - 1);
    if (schema.maximum !== undefined) out.push((schema.maximum as number) + 1);
    out.push(1.5);
  }
  if (schema.type === 'array') {
    if (schema.minItems !== undefined) out.push([]);
    if (schema.maxItems !== undefined) out.push(fc.sample(instanceOf(schema.items as Json), { numRuns: (schema.maxItems as number) + 1, seed: 1 }));
    for (const item of breaksOf(schema.items as Json)) out.push([item]);
  }
  return out;
}

/** A query parameter as the client sends it: every value a string. */
const asQueryValue = (value: unknown) => (typeof value === 'number' ? String(value) : value === '' ? '' : value);

interface Case {
  params: Json;
  query: Json;
  headers: Record<string, string>;
  body: unknown;
}

function fakeRequest(c: Case) {
  const headers = Object.fromEntries(Object.entries(c.headers).map(([k, v]) => [k.toLowerCase(), v]));
  return { params: c.params, query: c.query, body: c.body === undefined ? undefined : JSON.parse(JSON.stringify(c.body)), get: (name: string) => headers[name.toLowerCase()] } as never;
}

function validCases(operation: Operation): fc.Arbitrary<Case> {
  const part = (where: 'path' | 'query' | 'header') => {
    const ps = (operation.parameters ?? []).filter((p) => p.in === where);
    return fc.record(Object.fromEntries(ps.map((p) => [p.name, instanceOf(p.schema).map(where === 'query' ? asQueryValue : (v) => v)])), {
      requiredKeys: ps.filter((p) => p.required).map((p) => p.name) as never[],
    });
  };
  const body = operation.requestBody ? instanceOf(operation.requestBody.content['application/json'].schema) : fc.constant(undefined);
  return fc.record({ params: part('path'), query: part('query'), headers: part('header') as fc.Arbitrary<Record<string, string>>, body });
}

/** One break per rule of each parameter and body field: the case to send and the field its 400 must name. */
function brokenCases(operation: Operation, base: Case): { what: string; field: string; c: Case }[] {
  const cases: { what: string; field: string; c: Case }[] = [];
  const where = { path: 'params', query: 'query', header: 'headers' } as const;
  for (const p of operation.parameters ?? []) {
    const key = where[p.in];
    for (const bad of breaksOf(p.schema)) {
      // A path segment, a header and a query value are strings on the wire: a number there is only the digits.
      if (typeof bad !== 'string' && (p.in !== 'query' || p.schema.type === 'string')) continue;
      cases.push({ what: `${p.in} ${p.name}=${JSON.stringify(bad)}`, field: p.name, c: { ...base, [key]: { ...base[key], [p.name]: p.in === 'query' ? asQueryValue(bad) : bad } } });
    }
    if (p.in === 'query') cases.push({ what: `query ${p.name} twice`, field: p.name, c: { ...base, query: { ...base.query, [p.name]: ['1', '2'] } } });
  }
  if ((operation.parameters ?? []).some((p) => p.in === 'query')) {
    cases.push({ what: 'an unknown query parameter', field: 'zz_unknown', c: { ...base, query: { ...base.query, zz_unknown: '1' } } });
  }
  const bodySchema = operation.requestBody?.content['application/json'].schema;
  if (bodySchema) {
    const body = base.body as Json;
    const properties = (bodySchema.properties ?? {}) as Record<string, Json>;
    for (const name of (bodySchema.required ?? []) as string[]) {
      const { [name]: _dropped, ...rest } = body;
      cases.push({ what: `body without ${name}`, field: name, c: { ...base, body: rest } });
    }
    for (const [name, schema] of Object.entries(properties)) {
      for (const bad of breaksOf(schema)) cases.push({ what: `body ${name}=${JSON.stringify(bad)}`, field: name, c: { ...base, body: { ...body, [name]: bad } } });
    }
    if (bodySchema.additionalProperties === false) cases.push({ what: 'an unknown body field', field: 'zz_unknown', c: { ...base, body: { ...body, zz_unknown: 1 } } });
    const exclusive = ((bodySchema.not as Json | undefined)?.required ?? []) as string[];
    if (exclusive.length === 2) {
      const both = Object.fromEntries(exclusive.map((k) => [k, fc.sample(instanceOf(properties[k]), 1)[0]]));
      cases.push({ what: `body with ${exclusive.join(' and ')}`, field: exclusive[1], c: { ...base, body: { ...body, ...both } } });
    }
    cases.push({ what: 'a body that is not an object', field: 'body', c: { ...base, body: ['not', 'an', 'object'] } });
  }
  return cases;
}

function refusal(spec: RouteSpec, c: Case): { field: string; problem: string }[] {
  try {
    validateRequest(spec, fakeRequest(c));
  } catch (err) {
    const e = err as { status?: number; code?: string; details?: { problems: { field: string; problem: string }[] } };
    expect([e.status, e.code]).toEqual([400, 'INVALID_REQUEST']);
    return e.details!.problems;
  }
  return [];
}

/** A problem about `field` or about something inside it (`agents[2]`, `context.a`). */
const names = (problems: { field: string }[], name: string) => problems.some((p) => p.field === name || p.field.startsWith(`${name}.`) || p.field.startsWith(`${name}[`));

const validated = ROUTE_LIST.filter((spec) => spec.params || spec.query || spec.headers || spec.body);

describe('the route table, the router and GET /openapi.json', () => {
  const app = appUnderTest();

  it('agree on the routes: each one the app serves is in the table and the document, and no other', () => {
    const served = routesOf(app);
    const table = ROUTE_LIST.map((spec) => `${spec.method.toUpperCase()} ${spec.path}`).sort();
    const documented = Object.entries(OPENAPI_DOCUMENT.paths as Record<string, Json>).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`)).sort();
    expect(served.length).toBeGreaterThanOrEqual(15);
    expect(served).toEqual(table);
    expect(documented).toEqual(table);
  });

  it('serves the generated document at GET /openapi.json', async () => {
    const response = await request(app).get('/openapi.json').set('Authorization', `Bearer ${TOKEN}`);
    expect(response.status).toBe(200);
    expect(response.body).toEqual(JSON.parse(JSON.stringify(OPENAPI_DOCUMENT)));
  });

  it.each(validated.map((spec) => [`${spec.method.toUpperCase()} ${spec.path}`, spec] as const))('%s accepts every request drawn from its documented schemas', (_name, spec) => {
    const operation = operationOf(OPENAPI_DOCUMENT, spec);
    fc.assert(
      fc.property(validCases(operation), (c) => {
        expect({ c, problems: refusal(spec, c) }).toEqual({ c, problems: [] });
      }),
      { numRuns: 150 },
    );
  });

  it.each(validated.map((spec) => [`${spec.method.toUpperCase()} ${spec.path}`, spec] as const))('%s refuses each documented rule broken, naming the field', (_name, spec) => {
    const operation = operationOf(OPENAPI_DOCUMENT, spec);
    for (const base of fc.sample(validCases(operation), { numRuns: 5, seed: 17 })) {
      const cases = brokenCases(operation, base);
      expect(cases.length).toBeGreaterThan(0);
      for (const { what, field: name, c } of cases) {
        const problems = refusal(spec, c);
        expect({ what, refusedNaming: names(problems, name), problems }).toEqual({ what, refusedNaming: true, problems });
      }
    }
  });

  it.each(validated.map((spec) => [`${spec.method.toUpperCase()} ${spec.path}`, spec] as const))('%s answers every broken request over HTTP with a 400 the document lists', async (_name, spec) => {
    const operation = operationOf(OPENAPI_DOCUMENT, spec);
    const codes = errorSchemaCodes(operation, '400');
    const [base] = fc.sample(validCases(operation), { numRuns: 1, seed: 17 });
    for (const { what, field: name, c } of brokenCases(operation, base)) {
      // An empty path id is another path (`/injections/` is GET /injections), checked by validateRequest above.
      if (Object.values(c.params).includes('')) continue;
      let path = spec.path;
      for (const [k, v] of Object.entries(c.params)) path = path.replace(`{${k}}`, encodeURIComponent(String(v)));
      let call = request(app)[spec.method](path).query(c.query as Record<string, string>).set('Authorization', `Bearer ${TOKEN}`);
      for (const [k, v] of Object.entries(c.headers)) call = call.set(k, v);
      const response = await (c.body === undefined ? call : call.send(c.body as object));
      expect([what, response.status, codes.includes(response.body.error.code), response.body.error.message]).toEqual([what, 400, true, expect.stringContaining(name)]);
      expect(response.body.error.details.problems).toEqual(expect.arrayContaining([expect.objectContaining({ problem: expect.any(String) })]));
    }
  });

  it('answers the auth errors every authenticated route documents: 401 without a token, 403 without its scope', async () => {
    for (const spec of ROUTE_LIST) {
      const operation = operationOf(OPENAPI_DOCUMENT, spec);
      const path = spec.path.replace(/\{[^}]+\}/g, 'x1');
      if (spec.scope === null) {
        expect([spec.path, operation.security]).toEqual([spec.path, []]);
        expect((await request(app)[spec.method](path)).status).toBe(200);
        continue;
      }
      const anonymous = await request(app)[spec.method](path);
      expect([spec.path, anonymous.status, errorSchemaCodes(operation, '401')]).toEqual([spec.path, 401, expect.arrayContaining([anonymous.body.error.code])]);
      if (spec.scope === 'read') continue;
      const readOnly = await request(app)[spec.method](path).set('Authorization', `Bearer ${READ_ONLY}`).send({});
      expect([spec.path, readOnly.status, readOnly.body.error.details.scope, errorSchemaCodes(operation, '403')]).toEqual([
        spec.path,
        403,
        spec.scope,
        expect.arrayContaining([readOnly.body.error.code]),
      ]);
    }
  });

  it('lists every error code with its status: each code is some route\'s, and each route lists its codes under their statuses', () => {
    const listed = new Set(ROUTE_LIST.flatMap((spec) => Object.values(errorsByStatus(spec)).flat()));
    // NOT_FOUND is the answer for a path no route has, so no route lists it.
    expect(Object.keys(API_ERRORS).filter((code) => code !== 'NOT_FOUND' && !listed.has(code as ApiErrorCode))).toEqual([]);
    for (const spec of ROUTE_LIST) {
      const operation = operationOf(OPENAPI_DOCUMENT, spec);
      for (const [status, codes] of Object.entries(errorsByStatus(spec))) {
        if (spec.answers[status]) continue; // /readyz and /health answer 503 with their own body
        expect([spec.path, status, errorSchemaCodes(operation, status)]).toEqual([spec.path, status, codes]);
        for (const code of codes) expect(API_ERRORS[code].status).toBe(Number(status));
      }
    }
  });
});

function errorSchemaCodes(operation: Operation, status: string): string[] {
  const schema = operation.responses[status]?.content?.['application/json']?.schema as { properties?: { error?: { properties?: { code?: { enum?: string[] } } } } } | undefined;
  return schema?.properties?.error?.properties?.code?.enum ?? [];
}

describe('a route added to the table', () => {
  const echo = {
    method: 'post',
    path: '/echo/{agentId}',
    summary: 'Echo (a route this test adds)',
    scope: null,
    params: z.strictObject({ agentId: field.agentId }),
    query: z.strictObject({ times: field.wholeNumberQuery({ min: 1, max: 3, fallback: 1 }) }),
    body: z.strictObject({ note: field.abortReason }),
    bodyRequired: true,
    answers: { '200': { description: 'The note, times over.', schema: z.object({ notes: z.array(z.string()) }) } },
    errors: ['INVALID_REQUEST', 'MALFORMED_JSON'],
  } satisfies RouteSpec;

  it('is validated and documented from that one entry', async () => {
    const app = express();
    app.use(express.json());
    const router = express.Router();
    handle(router, echo, [], ({ query, body }, _req, res) => {
      res.json({ notes: Array.from({ length: query.times }, () => body.note) });
    });
    app.use(router);
    app.use(((err: { status: number; details: unknown }, _req, res, _next) => res.status(err.status).json(err.details)) as express.ErrorRequestHandler);

    const doc = openApiDocument([...ROUTE_LIST, echo]);
    const operation = operationOf(doc, echo);
    expect(operation.parameters).toEqual([
      expect.objectContaining({ name: 'agentId', in: 'path', required: true, schema: expect.objectContaining({ pattern: expect.any(String) }) }),
      expect.objectContaining({ name: 'times', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 3, default: 1 } }),
    ]);
    expect(operation.requestBody!.content['application/json'].schema).toMatchObject({ type: 'object', required: ['note'], additionalProperties: false });
    expect(errorSchemaCodes(operation, '400')).toEqual(['INVALID_REQUEST', 'MALFORMED_JSON']);

    expect((await request(app).post('/echo/a1?times=2').send({ note: 'hi' })).body).toEqual({ notes: ['hi', 'hi'] });
    const refused = await request(app).post('/echo/a%20b?times=9').send({ nope: 1 });
    expect(refused.status).toBe(400);
    expect((refused.body.problems as { field: string }[]).map((p) => p.field).sort()).toEqual(['agentId', 'nope', 'note', 'times']);
  });
});
