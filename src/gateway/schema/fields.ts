// The zod schemas of every request field, each with the message a 400 names it by; JSON Schema for the document comes from the same objects.
import { z } from 'zod';
import { MAX_MAX_PARALLEL, MAX_SOURCE_BYTES, MIN_MAX_PARALLEL } from '../../compiler/limits';
import { AGENT_ID_PATTERN, GROUP_PATTERN, INJECTION_ID_PATTERN, MAX_CONTEXT_JSON_BYTES, MAX_TARGET_AGENTS, ON_BUSY_CHOICES, OnBusy, PRIORITIES, Priority } from '../../shared/injection-types';
import { documentedAs, jsonSchemaOf } from './json-schema';

/** Keys that would reach Object.prototype if a consumer ever merged the context into another object. */
export const FORBIDDEN_CONTEXT_KEYS: readonly string[] = ['__proto__', 'constructor', 'prototype'];
/** Deepest nesting walked in a context; MAX_CONTEXT_JSON_BYTES bounds it already, this bounds the walk's stack. */
export const MAX_CONTEXT_DEPTH = 32;
export const MAX_ABORT_REASON_CHARS = 500;
/** Page tokens are opaque base64url strings the lists hand out; this bounds them before Temporal sees one. */
export const MAX_PAGE_TOKEN_CHARS = 4_096;
export const MAX_IDEMPOTENCY_KEY_CHARS = 200;

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

interface TextOptions {
  pattern?: RegExp;
  /** The pattern in words: the 400 says `expected <this>`, the document's description says the same. */
  expected?: string;
  maxBytes?: number;
  description?: string;
}

/** A non-empty string; over `maxBytes` of UTF-8 or off `pattern`, it is refused with one problem (the first rule it breaks). */
export function text(options: TextOptions = {}) {
  let schema = z.string({ error: (issue) => (issue.input === undefined || issue.input === null ? 'is required' : 'expected a non-empty string') }).min(1, { error: 'expected a non-empty string', abort: true });
  const { maxBytes, pattern } = options;
  if (maxBytes !== undefined) schema = schema.refine((value) => Buffer.byteLength(value, 'utf8') <= maxBytes, { error: `is over the ${maxBytes}-byte limit`, abort: true });
  if (pattern) schema = schema.regex(pattern, { error: `expected ${options.expected ?? `a value matching ${pattern.source}`}` });
  const description = options.description ?? (options.expected ? `${options.expected[0].toUpperCase()}${options.expected.slice(1)}.` : undefined);
  return description ? schema.meta({ description }) : schema;
}

/** One of `choices`, with the choices named in the 400. */
export function oneOf<T extends string>(choices: readonly T[], description?: string) {
  const schema = z.enum(choices as [T, ...T[]], { error: `expected one of ${choices.join(', ')}` });
  return description ? schema.meta({ description }) : schema;
}

export const agentId = text({ pattern: AGENT_ID_PATTERN, expected: 'an agent id: letters, digits, . _ - (at most 63 characters)' });
export const group = text({ pattern: GROUP_PATTERN, expected: 'a group name: letters, digits, . _ - (at most 63 characters)' });
export const injectionId = text({ pattern: INJECTION_ID_PATTERN, expected: 'an injection id: letters, digits, . _ - (at most 100 characters)' });
export const instruction = text({ maxBytes: MAX_SOURCE_BYTES, description: `A DSL program (docs/dsl.md), at most ${MAX_SOURCE_BYTES} bytes of UTF-8.` });
export const priority = oneOf<Priority>(PRIORITIES);
export const onBusy = oneOf<OnBusy>(
  ON_BUSY_CHOICES,
  'When another injection holds some of the agents: wait for them (the status names the holder), or refuse at once with 409 AGENT_BUSY.',
);
export const abortReason = text({ maxBytes: MAX_ABORT_REASON_CHARS, description: `Why, in the operator's words; at most ${MAX_ABORT_REASON_CHARS} bytes of UTF-8.` });
export const maxParallel = (() => {
  const expected = `expected a whole number from ${MIN_MAX_PARALLEL} to ${MAX_MAX_PARALLEL}`;
  const problem = { error: expected, abort: true };
  return z
    .number({ error: (issue) => (issue.input === undefined ? 'is required' : expected) })
    .int(problem)
    .min(MIN_MAX_PARALLEL, problem)
    .max(MAX_MAX_PARALLEL, problem);
})();

/** 1 to MAX_TARGET_AGENTS agent ids; bad entries are counted in one problem (not one per entry), duplicates dropped. */
export const agentList = documentedAs(
  z
    .array(z.unknown(), { error: 'expected a non-empty array of agent ids' })
    .min(1, { error: 'expected a non-empty array of agent ids', abort: true })
    .max(MAX_TARGET_AGENTS, { error: (issue) => `has ${(issue.input as unknown[]).length} agents, over the limit of ${MAX_TARGET_AGENTS}`, abort: true })
    .check((ctx) => {
      const bad = ctx.value.filter((id) => !agentId.safeParse(id).success);
      if (bad.length === 0) return;
      const message = `${bad.length} entr${bad.length === 1 ? 'y is' : 'ies are'} not agent ids, e.g. ${JSON.stringify(bad[0])}`;
      ctx.issues.push({ code: 'custom', message, input: ctx.value });
    })
    .transform((ids) => [...new Set(ids as string[])]),
  () => ({ type: 'array', minItems: 1, maxItems: MAX_TARGET_AGENTS, items: jsonSchemaOf(agentId), description: 'Agent ids; duplicates are dropped.' }),
);

/** A JSON object of at most MAX_CONTEXT_JSON_BYTES, with no prototype-polluting key at any depth; kept as sent (never copied key by key). */
export const context = documentedAs(
  z.custom<Record<string, unknown>>(isPlainObject, { error: 'expected a JSON object' }).check((ctx) => {
    // Before measuring: JSON.stringify overflows the stack on a few thousand levels, which the body parser accepts.
    if (nestsDeeperThan(ctx.value, MAX_CONTEXT_DEPTH)) {
      ctx.issues.push({ code: 'custom', message: `nests deeper than ${MAX_CONTEXT_DEPTH} levels`, input: ctx.value });
      return;
    }
    const bytes = Buffer.byteLength(JSON.stringify(ctx.value), 'utf8');
    if (bytes > MAX_CONTEXT_JSON_BYTES) {
      ctx.issues.push({ code: 'custom', message: `is ${bytes} bytes of JSON, over the ${MAX_CONTEXT_JSON_BYTES}-byte limit`, input: ctx.value });
      return;
    }
    const forbidden = forbiddenKeyPath(ctx.value, [], 0);
    if (forbidden) ctx.issues.push({ code: 'custom', message: 'this key name is not allowed (__proto__, constructor and prototype are refused)', path: forbidden, input: ctx.value });
  }),
  () => ({
    type: 'object',
    description: `Values the program reads as \${name}; at most ${MAX_CONTEXT_JSON_BYTES} bytes of JSON, nested at most ${MAX_CONTEXT_DEPTH} levels; the keys ${FORBIDDEN_CONTEXT_KEYS.join(', ')} are refused at any depth.`,
  }),
);

/** True when objects or arrays nest more than `limit` levels; the walk stops there, so its own stack is bounded. */
function nestsDeeperThan(value: unknown, limit: number): boolean {
  if (typeof value !== 'object' || value === null) return false;
  if (limit === 0) return true;
  const children = Array.isArray(value) ? value : Object.values(value);
  return children.some((child) => nestsDeeperThan(child, limit - 1));
}

function forbiddenKeyPath(value: unknown, at: (string | number)[], depth: number): (string | number)[] | null {
  if (depth > MAX_CONTEXT_DEPTH) return at;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = forbiddenKeyPath(value[i], [...at, i], depth + 1);
      if (found) return found;
    }
    return null;
  }
  if (!isPlainObject(value)) return null;
  for (const key of Object.keys(value)) {
    if (FORBIDDEN_CONTEXT_KEYS.includes(key)) return [...at, key];
    const found = forbiddenKeyPath(value[key], [...at, key], depth + 1);
    if (found) return found;
  }
  return null;
}

/** A whole number in a query string (digits only, no sign, exponent or spaces), within [min, max]; `fallback` when absent. */
export function wholeNumberQuery(range: { min: number; max: number; fallback: number; description?: string }) {
  const expected = `expected a whole number from ${range.min} to ${range.max}`;
  const outOfRange = { error: (issue: { input?: unknown }) => `${expected}, got ${String(issue.input)}`, abort: true };
  const schema = z
    .string({ error: expected })
    .regex(/^\d{1,9}$/, { error: expected, abort: true })
    .transform(Number)
    .pipe(z.number().min(range.min, outOfRange).max(range.max, outOfRange));
  const documented = documentedAs(schema, () => ({
    type: 'integer',
    minimum: range.min,
    maximum: range.max,
    default: range.fallback,
    ...(range.description ? { description: range.description } : {}),
  }));
  return documented.default(range.fallback);
}

export const pageToken = text({
  pattern: new RegExp(`^[A-Za-z0-9_-]{1,${MAX_PAGE_TOKEN_CHARS}}$`),
  expected: `the nextPageToken of a previous page (base64url, at most ${MAX_PAGE_TOKEN_CHARS} characters)`,
  description: "The previous page's nextPageToken; absent for the first page.",
});

export const idempotencyKey = (() => {
  const error = `must be 1 to ${MAX_IDEMPOTENCY_KEY_CHARS} printable ASCII characters with no spaces`;
  return z
    .string({ error })
    .regex(new RegExp(`^[\\x21-\\x7e]{1,${MAX_IDEMPOTENCY_KEY_CHARS}}$`), { error })
    .meta({ description: 'A retried request with the same key (and token) returns the same injection.' });
})();

/** `a` or `b` or neither, never both: refused with `problem` on `b`, and said in the document as `not: {required: [a, b]}`. */
export function notBoth<T extends z.ZodType>(schema: T, a: string, b: string, problem: string): T {
  const both = (value: unknown) => isPlainObject(value) && value[a] !== undefined && value[b] !== undefined;
  // `when`: checked even when a field failed (zod skips refinements after a failure otherwise), so one 400 names every problem.
  return schema.refine((value) => !both(value), { path: [b], error: problem, when: () => true }).meta({ not: { required: [a, b] } }) as unknown as T;
}
