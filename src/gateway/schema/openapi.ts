// GET /openapi.json, generated from the route entries (routes.ts) and the error catalog; nothing here is written twice.
import { z } from 'zod';
import { API_ERRORS, ApiErrorCode } from '../error-codes';
import { JsonSchema, jsonSchemaOf } from './json-schema';
import { ROUTE_LIST, RouteSpec } from './routes';

/** Codes any route can answer with, beside its own. */
export const ANY_ROUTE_ERRORS: readonly ApiErrorCode[] = ['HOST_NOT_ALLOWED', 'INTERNAL'];

/** The error body, its `code` narrowed to `codes`. */
function errorSchema(codes: readonly ApiErrorCode[]): JsonSchema {
  return {
    type: 'object',
    required: ['error'],
    properties: {
      error: {
        type: 'object',
        required: ['code', 'message'],
        properties: { code: { type: 'string', enum: [...codes] }, message: { type: 'string' }, details: {} },
      },
    },
  };
}

/** Every code a route can answer with, grouped by status: `{'400': ['INVALID_REQUEST', ...], ...}`. */
export function errorsByStatus(spec: RouteSpec): Record<string, ApiErrorCode[]> {
  const grouped: Record<string, ApiErrorCode[]> = {};
  for (const code of new Set([...spec.errors, ...ANY_ROUTE_ERRORS])) (grouped[String(API_ERRORS[code].status)] ??= []).push(code);
  return grouped;
}

function parameters(spec: RouteSpec): JsonSchema[] {
  const of = (where: 'path' | 'query' | 'header', schema: z.ZodObject | undefined): JsonSchema[] => {
    if (!schema) return [];
    const json = jsonSchemaOf(schema) as { properties?: Record<string, JsonSchema>; required?: string[] };
    return Object.entries(json.properties ?? {}).map(([name, property]) => {
      const { description, ...rest } = property;
      return { name, in: where, ...(where === 'path' || json.required?.includes(name) ? { required: true } : {}), schema: rest, ...(description ? { description } : {}) };
    });
  };
  return [...of('path', spec.params), ...of('query', spec.query), ...of('header', spec.headers)];
}

function operation(spec: RouteSpec): JsonSchema {
  const responses: Record<string, JsonSchema> = {};
  for (const [status, answer] of Object.entries(spec.answers)) {
    responses[status] = { description: answer.description, content: { [answer.contentType ?? 'application/json']: { schema: jsonSchemaOf(answer.schema) } } };
  }
  for (const [status, codes] of Object.entries(errorsByStatus(spec))) {
    const existing = responses[status];
    const description = codes.map((code) => `${code}: ${API_ERRORS[code].when}.`).join(' ');
    // A status that is both an answer and an error (503 of /readyz is an answer): the answer is documented.
    if (!existing) responses[status] = { description, content: { 'application/json': { schema: errorSchema(codes) } } };
  }
  const params = parameters(spec);
  return {
    summary: spec.summary,
    ...(spec.scope === null ? { security: [] } : { 'x-scope': spec.scope, description: `Needs a token with the ${spec.scope} scope.` }),
    ...(params.length > 0 ? { parameters: params } : {}),
    ...(spec.body ? { requestBody: { required: spec.bodyRequired ?? false, content: { 'application/json': { schema: jsonSchemaOf(spec.body) } } } } : {}),
    responses,
  };
}

export function openApiDocument(routes: readonly RouteSpec[] = ROUTE_LIST): JsonSchema {
  const paths: Record<string, Record<string, JsonSchema>> = {};
  for (const spec of routes) (paths[spec.path] ??= {})[spec.method] = operation(spec);
  return {
    openapi: '3.1.0',
    info: {
      title: 'OpenClaw Injector gateway',
      version: '1.0.0',
      description: 'Start, watch, steer and audit durable program injections into agent swarms. docs/api.md explains every route.',
    },
    security: [{ bearer: [] }],
    paths,
    components: {
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', description: 'One of OPENCLAW_API_TOKENS; its scopes (read, compile, inject, steer) decide the routes it reaches.' },
      },
    },
  };
}

/** The document served, built once at start-up. */
export const OPENAPI_DOCUMENT = openApiDocument();
