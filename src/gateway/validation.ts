// Explicit checks for HTTP bodies, query strings and path parameters: each problem becomes one entry in a 400's details.
import { MAX_SOURCE_BYTES } from '../compiler';
import { AGENT_ID_PATTERN, GROUP_PATTERN, INJECTION_ID_PATTERN, MAX_CONTEXT_JSON_BYTES, MAX_TARGET_AGENTS, ON_BUSY_CHOICES, OnBusy, PRIORITIES, Priority } from '../shared/injection-types';
import { ApiError } from './errors';

/** Keys that would reach Object.prototype if a consumer ever merged the context into another object. */
const FORBIDDEN_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);
/** Deepest nesting walked in a context; MAX_CONTEXT_JSON_BYTES bounds it already, this bounds the walk's stack. */
export const MAX_CONTEXT_DEPTH = 32;
export const MAX_ABORT_REASON_CHARS = 500;

export interface FieldProblem {
  field: string;
  problem: string;
}

/** Collects every problem in one request, then throws one 400 naming them all. */
export class Checker {
  readonly problems: FieldProblem[] = [];

  add(field: string, problem: string): void {
    this.problems.push({ field, problem });
  }

  done(): void {
    if (this.problems.length === 0) return;
    const summary = this.problems.map((p) => `${p.field}: ${p.problem}`).join('; ');
    throw new ApiError(400, 'INVALID_REQUEST', summary, { problems: this.problems });
  }
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The body must be a JSON object carrying no keys outside `allowed`. */
export function objectBody(body: unknown, allowed: readonly string[], check: Checker): Record<string, unknown> {
  if (!isPlainObject(body)) {
    check.add('body', 'expected a JSON object (Content-Type: application/json)');
    check.done();
    return {};
  }
  for (const key of Object.keys(body)) if (!allowed.includes(key)) check.add(key, `unknown field; expected one of ${allowed.join(', ')}`);
  return body;
}

export function requiredString(value: unknown, field: string, check: Checker, options: { pattern?: RegExp; maxBytes?: number; expected?: string } = {}): string {
  if (value === undefined || value === null) {
    check.add(field, 'is required');
    return '';
  }
  return optionalString(value, field, check, options) ?? '';
}

export function optionalString(value: unknown, field: string, check: Checker, options: { pattern?: RegExp; maxBytes?: number; expected?: string } = {}): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value.length === 0) {
    check.add(field, 'expected a non-empty string');
    return undefined;
  }
  if (options.maxBytes !== undefined && Buffer.byteLength(value, 'utf8') > options.maxBytes) {
    check.add(field, `is over the ${options.maxBytes}-byte limit`);
    return undefined;
  }
  if (options.pattern && !options.pattern.test(value)) {
    check.add(field, `expected ${options.expected ?? `a value matching ${options.pattern.source}`}`);
    return undefined;
  }
  return value;
}

export function instructionField(value: unknown, check: Checker): string {
  return requiredString(value, 'instruction', check, { maxBytes: MAX_SOURCE_BYTES });
}

export function agentIdField(value: unknown, field: string, check: Checker): string {
  return requiredString(value, field, check, { pattern: AGENT_ID_PATTERN, expected: 'an agent id: letters, digits, . _ - (at most 63 characters)' });
}

export function groupField(value: unknown, check: Checker): string | undefined {
  return optionalString(value, 'group', check, { pattern: GROUP_PATTERN, expected: 'a group name: letters, digits, . _ - (at most 63 characters)' });
}

export function agentListField(value: unknown, field: string, check: Checker): string[] | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || value.length === 0) {
    check.add(field, 'expected a non-empty array of agent ids');
    return undefined;
  }
  if (value.length > MAX_TARGET_AGENTS) {
    check.add(field, `has ${value.length} agents, over the limit of ${MAX_TARGET_AGENTS}`);
    return undefined;
  }
  const bad = value.filter((id) => typeof id !== 'string' || !AGENT_ID_PATTERN.test(id));
  if (bad.length > 0) {
    check.add(field, `${bad.length} entr${bad.length === 1 ? 'y is' : 'ies are'} not agent ids, e.g. ${JSON.stringify(bad[0])}`);
    return undefined;
  }
  return [...new Set(value as string[])];
}

export function onBusyField(value: unknown, check: Checker): OnBusy {
  if (value === undefined) return 'wait';
  if (typeof value !== 'string' || !(ON_BUSY_CHOICES as readonly string[]).includes(value)) {
    check.add('onBusy', `expected one of ${ON_BUSY_CHOICES.join(', ')}`);
    return 'wait';
  }
  return value as OnBusy;
}

export function priorityField(value: unknown, fallback: Priority, check: Checker): Priority {
  if (value === undefined) return fallback;
  if (typeof value !== 'string' || !(PRIORITIES as readonly string[]).includes(value)) {
    check.add('priority', `expected one of ${PRIORITIES.join(', ')}`);
    return fallback;
  }
  return value as Priority;
}

/** A JSON object of at most MAX_CONTEXT_JSON_BYTES, with no prototype-polluting key at any depth. */
export function contextField(value: unknown, check: Checker): Record<string, unknown> {
  if (value === undefined) return {};
  if (!isPlainObject(value)) {
    check.add('context', 'expected a JSON object');
    return {};
  }
  // Before measuring: JSON.stringify overflows the stack on a few thousand levels, which the body parser accepts.
  if (nestsDeeperThan(value, MAX_CONTEXT_DEPTH)) {
    check.add('context', `nests deeper than ${MAX_CONTEXT_DEPTH} levels`);
    return {};
  }
  const bytes = Buffer.byteLength(JSON.stringify(value), 'utf8');
  if (bytes > MAX_CONTEXT_JSON_BYTES) {
    check.add('context', `is ${bytes} bytes of JSON, over the ${MAX_CONTEXT_JSON_BYTES}-byte limit`);
    return {};
  }
  const forbidden = findForbiddenKey(value, 'context', 0);
  if (forbidden) {
    check.add(forbidden, 'this key name is not allowed (__proto__, constructor and prototype are refused)');
    return {};
  }
  return value;
}

/** True when objects or arrays nest more than `limit` levels; the walk stops there, so its own stack is bounded. */
function nestsDeeperThan(value: unknown, limit: number): boolean {
  if (typeof value !== 'object' || value === null) return false;
  if (limit === 0) return true;
  const children = Array.isArray(value) ? value : Object.values(value);
  return children.some((child) => nestsDeeperThan(child, limit - 1));
}

function findForbiddenKey(value: unknown, at: string, depth: number): string | null {
  if (depth > MAX_CONTEXT_DEPTH) return at;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = findForbiddenKey(value[i], `${at}[${i}]`, depth + 1);
      if (found) return found;
    }
    return null;
  }
  if (!isPlainObject(value)) return null;
  for (const key of Object.keys(value)) {
    if (FORBIDDEN_KEYS.has(key)) return `${at}.${key}`;
    const found = findForbiddenKey(value[key], `${at}.${key}`, depth + 1);
    if (found) return found;
  }
  return null;
}

export function injectionIdParam(value: unknown): string {
  if (typeof value !== 'string' || !INJECTION_ID_PATTERN.test(value)) {
    throw new ApiError(400, 'INVALID_REQUEST', 'the injection id is malformed: letters, digits, . _ - (at most 100 characters)', { problems: [{ field: 'id', problem: 'malformed injection id' }] });
  }
  return value;
}

export function agentIdParam(value: unknown): string {
  if (typeof value !== 'string' || !AGENT_ID_PATTERN.test(value)) {
    throw new ApiError(400, 'INVALID_REQUEST', 'the agent id is malformed: letters, digits, . _ - (at most 63 characters)', { problems: [{ field: 'agentId', problem: 'malformed agent id' }] });
  }
  return value;
}

/** A whole number from a query string, within [min, max]; `fallback` when absent. */
export function intQuery(value: unknown, field: string, range: { min: number; max: number; fallback: number }, check: Checker): number {
  if (value === undefined) return range.fallback;
  if (typeof value !== 'string' || !/^\d{1,9}$/.test(value)) {
    check.add(field, `expected a whole number from ${range.min} to ${range.max}`);
    return range.fallback;
  }
  const n = Number(value);
  if (n < range.min || n > range.max) {
    check.add(field, `expected a whole number from ${range.min} to ${range.max}, got ${n}`);
    return range.fallback;
  }
  return n;
}

/** Only the named query parameters are accepted; anything else is probably a typo the caller wants to hear about. */
export function knownQuery(query: unknown, allowed: readonly string[], check: Checker): Record<string, unknown> {
  const q = isPlainObject(query) ? query : {};
  for (const key of Object.keys(q)) if (!allowed.includes(key)) check.add(key, `unknown query parameter; expected ${allowed.length ? allowed.join(', ') : 'none'}`);
  return q;
}

/** Page tokens are opaque base64url strings the lists hand out; this bounds them before Temporal sees one. */
export const MAX_PAGE_TOKEN_CHARS = 4_096;

/** The `pageToken` a list returned as `nextPageToken`; undefined for the first page. */
export function pageTokenQuery(value: unknown, check: Checker): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_PAGE_TOKEN_CHARS || !/^[A-Za-z0-9_-]+$/.test(value)) {
    check.add('pageToken', `expected the nextPageToken of a previous page (base64url, at most ${MAX_PAGE_TOKEN_CHARS} characters)`);
    return undefined;
  }
  return value;
}
