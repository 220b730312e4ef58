// Checks a request against its route's schemas: every problem becomes one entry in a 400's details, named by its field.
import type { Request, RequestHandler, Response, Router } from 'express';
import type { z } from 'zod';
import { requireScope } from '../auth';
import { ApiError } from '../errors';
import { isPlainObject } from './fields';
import type { RouteSpec } from './routes';

export interface FieldProblem {
  field: string;
  problem: string;
}

type Parsed<T> = T extends z.ZodType ? z.output<T> : undefined;

export interface ValidRequest<S extends RouteSpec> {
  params: Parsed<S['params']>;
  query: Parsed<S['query']>;
  headers: Parsed<S['headers']>;
  body: Parsed<S['body']>;
}

type Part = 'params' | 'query' | 'headers' | 'body';

/** `context.deep.__proto__`, `agents[3]`: the field a problem is about, as the caller wrote it. */
function fieldName(path: readonly PropertyKey[], part: Part): string {
  if (path.length === 0) return part === 'body' ? 'body' : part;
  return path.reduce<string>((name, key, i) => (typeof key === 'number' ? `${name}[${key}]` : i === 0 ? String(key) : `${name}.${String(key)}`), '');
}

function problemsOf(error: z.ZodError, schema: z.ZodType, part: Part): FieldProblem[] {
  const known = Object.keys((schema as { shape?: object }).shape ?? {});
  return error.issues.flatMap((issue): FieldProblem[] => {
    if (issue.code === 'unrecognized_keys') {
      const prefix = issue.path.length > 0 ? `${fieldName(issue.path, part)}.` : '';
      const expected = part === 'query' ? `unknown query parameter; expected ${known.length ? known.join(', ') : 'none'}` : `unknown field; expected one of ${known.join(', ')}`;
      return issue.keys.map((key) => ({ field: `${prefix}${key}`, problem: expected }));
    }
    return [{ field: fieldName(issue.path, part), problem: issue.message }];
  });
}

/** Validates params, query, declared headers and body of `req` against `spec`; throws one 400 INVALID_REQUEST naming every problem. */
export function validateRequest<S extends RouteSpec>(spec: S, req: Request): ValidRequest<S> {
  const problems: FieldProblem[] = [];
  const parse = (part: Part, schema: z.ZodType | undefined, input: unknown): unknown => {
    if (!schema) return undefined;
    const result = schema.safeParse(input);
    if (result.success) return result.data;
    problems.push(...problemsOf(result.error, schema, part));
    return undefined;
  };
  const params = parse('params', spec.params, { ...req.params });
  const query = parse('query', spec.query, isPlainObject(req.query) ? req.query : {});
  const headers = spec.headers ? parse('headers', spec.headers, declaredHeaders(spec.headers, req)) : undefined;
  let body: unknown;
  if (spec.body) {
    const raw = req.body === undefined && !spec.bodyRequired ? {} : req.body;
    if (isPlainObject(raw)) body = parse('body', spec.body, raw);
    else problems.push({ field: 'body', problem: 'expected a JSON object (Content-Type: application/json)' });
  }
  if (problems.length > 0) {
    const summary = problems.map((p) => `${p.field}: ${p.problem}`).join('; ');
    throw new ApiError(400, 'INVALID_REQUEST', summary, { problems });
  }
  return { params, query, headers, body } as ValidRequest<S>;
}

function declaredHeaders(schema: z.ZodObject, req: Request): Record<string, string | undefined> {
  return Object.fromEntries(Object.keys(schema.shape).map((name) => [name, req.get(name)]));
}

/** Express's `/injections/:id` for the document's `/injections/{id}`. */
export function expressPath(path: string): string {
  return path.replace(/\{([A-Za-z0-9_]+)\}/g, ':$1');
}

/**
 * Registers `spec` on `router`: the scope check its entry names, then `guards` (rate limits), then the request
 * validated against the entry, then `handler` with the parsed values. A route exists only through its entry.
 */
export function handle<S extends RouteSpec>(
  router: Router,
  spec: S,
  guards: readonly RequestHandler[],
  handler: (input: ValidRequest<S>, req: Request, res: Response) => unknown,
): void {
  const scope = spec.scope === null ? [] : [requireScope(spec.scope)];
  router[spec.method](expressPath(spec.path), ...scope, ...guards, async (req: Request, res: Response) => {
    await handler(validateRequest(spec, req), req, res);
  });
}
