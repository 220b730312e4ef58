// The gateway's API, one entry per route: its path, scope, request schemas, answers and error codes. The router
// registers each route from its entry (handle.ts validates with it) and GET /openapi.json is generated from the same.
import { z } from 'zod';
import { FINAL_SWARM_STATUSES, SwarmStatus } from '../../shared/injection-types';
import type { Scope } from '../../shared/api-tokens';
import type { ApiErrorCode } from '../error-codes';
import * as field from './fields';
import { documentedAs } from './json-schema';

/** `?wait=true` waits at most this long (or `timeoutSeconds`, if smaller) before answering 202 with the status so far. */
export const MAX_WAIT_SECONDS = 60;
/** Per-agent entries in one page of GET /injections/:id (the workflow's own query caps pages at the same size). */
export const MAX_AGENT_PAGE = 500;
export const DEFAULT_AGENT_PAGE = 50;
export const MAX_LIST_LIMIT = 100;
export const DEFAULT_LIST_LIMIT = 20;
/** Each history entry carries a trace (bounded by MAX_TRACE_BYTES_IN_RESULT), so a page stays small. */
export const MAX_HISTORY_LIMIT = 100;
export const DEFAULT_HISTORY_LIMIT = 20;
export const LISTABLE_STATUSES: readonly SwarmStatus[] = ['compiling', 'resolving', 'canary', 'rolling-out', 'waiting-for-agents', 'paused', 'rolling-back', ...FINAL_SWARM_STATUSES];

export interface Answer {
  description: string;
  /** JSON unless contentType says otherwise. */
  schema: z.ZodType;
  contentType?: string;
}

export interface RouteSpec {
  method: 'get' | 'post' | 'patch';
  /** OpenAPI form, `/injections/{id}`; handle.ts registers it as `/injections/:id`. */
  path: string;
  summary: string;
  /** The token scope the route needs; null for the unauthenticated probes. */
  scope: Scope | null;
  params?: z.ZodObject;
  query?: z.ZodObject;
  /** Named as documented (`Idempotency-Key`); only these are read, other headers pass. */
  headers?: z.ZodObject;
  body?: z.ZodType;
  /** A route whose body is optional takes a missing body as `{}`. */
  bodyRequired?: boolean;
  answers: Record<string, Answer>;
  /** Every code this route can answer with beyond INTERNAL and HOST_NOT_ALLOWED (any route can). */
  errors: readonly ApiErrorCode[];
}

function route<const S extends RouteSpec>(spec: S): S {
  return spec;
}

/** Answer objects whose fields are all optional, as the views they describe leave some out. */
const view = <T extends z.ZodRawShape>(shape: T) => z.object(shape).partial();
const nullable = <T extends z.ZodType>(schema: T) => schema.nullable();
const anyObject = z.object({});
/** A count or a number of ms: `integer` in the document (z.int() would add the safe-integer bounds to every one). */
const int = () => documentedAs(z.int(), () => ({ type: 'integer' }));
const nextPageToken = z.string().nullable().meta({ description: 'Pass as pageToken for the next page; null on the last page.' });

const AUTH_ERRORS = ['UNAUTHENTICATED', 'FORBIDDEN', 'FORBIDDEN_SCOPE', 'RATE_LIMITED'] as const;
const BODY_ERRORS = ['MALFORMED_JSON', 'BAD_REQUEST', 'BODY_TOO_LARGE', 'UNSUPPORTED_ENCODING', 'INVALID_REQUEST'] as const;

export const PROBE_ANSWER = z.object({ status: z.enum(['ok', 'unavailable']) });
const health = z.object({
  status: z.enum(['ok', 'unavailable']),
  parts: z.object({ temporal: z.object({ ok: z.boolean() }), worker: z.object({ ok: z.boolean() }) }),
});

const started = z.object({ injectionId: z.string(), statusUrl: z.string(), created: z.boolean(), agentId: z.string().optional() });
const accepted = view({
  injectionId: z.string(),
  accepted: z.enum(['pause', 'resume', 'abort']),
  by: z.string().meta({ description: "The token's principal, recorded with the signal." }),
  statusUrl: z.string(),
  reason: z.string().nullable(),
});
const injectResult = view({
  injectionId: z.string(),
  statusUrl: z.string(),
  created: z.boolean(),
  agentId: z.string(),
  success: z.boolean(),
  status: z.string(),
  outcome: nullable(z.string()),
  error: nullable(z.string()),
  executionTime: nullable(int()),
  timings: z.array(anyObject),
  trace: nullable(anyObject),
});
const swarmResult = view({
  injectionId: z.string(),
  statusUrl: z.string(),
  created: z.boolean(),
  status: z.string(),
  instruction: z.string(),
  totalAgents: int(),
  successful: int(),
  failed: int(),
  counts: nullable(anyObject),
  results: z.array(view({ agentId: z.string(), success: z.boolean(), outcome: z.string(), error: nullable(z.string()) })),
  resultsTruncated: z.boolean(),
  summary: z.string(),
  error: anyObject,
});
const injection = view({
  injectionId: z.string(),
  workflowStatus: z.string(),
  status: z.string(),
  done: z.boolean(),
  startedAt: z.string(),
  closedAt: nullable(z.string()),
  wave: nullable(z.string()),
  paused: z.boolean(),
  maxParallel: nullable(int()),
  failureBudget: nullable(int()),
  deadline: nullable(z.string()),
  msUntilDeadline: nullable(int()),
  rollout: nullable(anyObject),
  counts: nullable(anyObject),
  agents: view({ offset: int(), limit: int(), total: int(), items: z.array(anyObject) }),
  error: anyObject,
});
const injectionSummary = view({
  injectionId: z.string(),
  workflowStatus: z.string(),
  status: nullable(z.string()),
  startedAt: z.string(),
  closedAt: nullable(z.string()),
  statusUrl: z.string(),
});
const historyEntry = view({
  injectionId: z.string(),
  workflowId: z.string(),
  outcome: z.string(),
  startedAt: z.string(),
  closedAt: nullable(z.string()),
  timings: z.array(view({ step: z.string(), ms: z.number() })),
  trace: nullable(anyObject),
  error: nullable(anyObject),
});
const compileResult = view({
  ok: z.boolean(),
  dryRun: z.literal(true),
  programId: z.literal('dry-run'),
  signature: z.string(),
  bytecode: z.string().meta({ contentEncoding: 'base64', description: 'Unsigned (only workers seal programs, per agent): no agent accepts it.' }),
  bytes: int(),
  sha256: z.string(),
  disassembly: z.string(),
  rollout: anyObject,
  directives: z.array(z.unknown()),
  diagnostics: z.array(z.unknown()),
  targets: anyObject,
});

/** POST /inject and /inject-swarm share their query and header. */
const startQuery = z.strictObject({
  wait: field.oneOf(['true', 'false'] as const, 'Wait for the injection to end, at most timeoutSeconds.').optional(),
  timeoutSeconds: field.wholeNumberQuery({ min: 1, max: MAX_WAIT_SECONDS, fallback: MAX_WAIT_SECONDS }),
});
const startHeaders = z.object({ 'Idempotency-Key': field.idempotencyKey.optional() });
const startErrors = [...BODY_ERRORS, ...AUTH_ERRORS, 'COMPILE_FAILED', 'NO_TARGETS', 'INJECTION_ID_CONFLICT', 'AGENT_BUSY', 'TOO_MANY_WAITS'] as const;
const injectionParams = z.strictObject({ id: field.injectionId });
const STEER_ERRORS = [...AUTH_ERRORS, 'INVALID_REQUEST', 'INJECTION_NOT_FOUND', 'INJECTION_CLOSED', 'WORKERS_UNAVAILABLE'] as const;

export const ROUTES = {
  livez: route({
    method: 'get',
    path: '/livez',
    summary: 'Liveness: the process answers (no upstream call)',
    scope: null,
    answers: { '200': { description: 'Alive.', schema: PROBE_ANSWER } },
    errors: [],
  }),
  readyz: route({
    method: 'get',
    path: '/readyz',
    summary: 'Readiness: Temporal answers (cached for 2 s)',
    scope: null,
    answers: { '200': { description: 'Ready.', schema: PROBE_ANSWER }, '503': { description: 'Temporal does not answer.', schema: PROBE_ANSWER } },
    errors: [],
  }),
  health: route({
    method: 'get',
    path: '/health',
    summary: 'Temporal and worker health, each only ok or not (cached for 2 s)',
    scope: null,
    answers: { '200': { description: 'Every part is healthy.', schema: health }, '503': { description: 'A part is not.', schema: health } },
    errors: [],
  }),
  inject: route({
    method: 'post',
    path: '/inject',
    summary: 'Inject a program into one agent (a swarm injection of one)',
    scope: 'inject',
    query: startQuery,
    headers: startHeaders,
    body: z.strictObject({
      agentId: field.agentId,
      instruction: field.instruction,
      context: field.context.optional(),
      priority: field.priority.default('medium'),
      onBusy: field.onBusy.default('wait'),
    }),
    bodyRequired: true,
    answers: {
      '202': { description: 'Started (or found, for a repeated Idempotency-Key).', schema: started },
      '200': { description: 'With wait=true: the injection ended in time.', schema: injectResult },
    },
    errors: startErrors,
  }),
  injectSwarm: route({
    method: 'post',
    path: '/inject-swarm',
    summary: "Inject a program into a swarm: explicit agents, a group, or the program's TARGET",
    scope: 'inject',
    query: startQuery,
    headers: startHeaders,
    body: field.notBoth(
      z.strictObject({
        agents: field.agentList.optional(),
        group: field.group.optional(),
        instruction: field.instruction,
        context: field.context.optional(),
        priority: field.priority.default('high'),
        onBusy: field.onBusy.default('wait'),
      }),
      'agents',
      'group',
      'give agents or group, not both',
    ),
    bodyRequired: true,
    answers: {
      '202': { description: 'Started (or found, for a repeated Idempotency-Key).', schema: started },
      '200': { description: 'With wait=true: the injection ended in time.', schema: swarmResult },
    },
    errors: startErrors,
  }),
  listInjections: route({
    method: 'get',
    path: '/injections',
    summary: 'List injections, newest first',
    scope: 'read',
    query: z.strictObject({
      status: field.oneOf(LISTABLE_STATUSES, 'A swarm status, e.g. rolling-out or succeeded.').optional(),
      agent: field.agentId.meta({ description: 'Only injections that reached this agent.' }).optional(),
      limit: field.wholeNumberQuery({ min: 1, max: MAX_LIST_LIMIT, fallback: DEFAULT_LIST_LIMIT, description: 'Injections per page.' }),
      pageToken: field.pageToken.optional(),
    }),
    answers: { '200': { description: 'One page of matching injections.', schema: z.object({ items: z.array(injectionSummary), limit: int(), nextPageToken }) } },
    errors: [...AUTH_ERRORS, 'INVALID_REQUEST'],
  }),
  getInjection: route({
    method: 'get',
    path: '/injections/{id}',
    summary: "An injection's status, progress and one page of per-agent results",
    scope: 'read',
    params: injectionParams,
    query: z.strictObject({
      offset: field.wholeNumberQuery({ min: 0, max: 1_000_000, fallback: 0 }),
      limit: field.wholeNumberQuery({ min: 1, max: MAX_AGENT_PAGE, fallback: DEFAULT_AGENT_PAGE }),
    }),
    answers: { '200': { description: 'The injection.', schema: injection } },
    errors: [...AUTH_ERRORS, 'INVALID_REQUEST', 'INJECTION_NOT_FOUND', 'WORKERS_UNAVAILABLE'],
  }),
  setMaxParallel: route({
    method: 'patch',
    path: '/injections/{id}',
    summary: 'Change how many agents are injected at once',
    scope: 'steer',
    params: injectionParams,
    body: z.strictObject({ maxParallel: field.maxParallel }),
    bodyRequired: true,
    answers: { '200': { description: 'Applied.', schema: view({ injectionId: z.string(), maxParallel: int(), previous: int(), by: z.string() }) } },
    errors: [...BODY_ERRORS, ...STEER_ERRORS],
  }),
  pause: route({
    method: 'post',
    path: '/injections/{id}/pause',
    summary: 'Stop launching agents (in-flight ones finish)',
    scope: 'steer',
    params: injectionParams,
    answers: { '202': { description: 'Signalled.', schema: accepted } },
    errors: STEER_ERRORS,
  }),
  resume: route({
    method: 'post',
    path: '/injections/{id}/resume',
    summary: 'Launch agents again after a pause',
    scope: 'steer',
    params: injectionParams,
    answers: { '202': { description: 'Signalled.', schema: accepted } },
    errors: STEER_ERRORS,
  }),
  abort: route({
    method: 'post',
    path: '/injections/{id}/abort',
    summary: 'Stop the rollout and roll back every agent it changed',
    scope: 'steer',
    params: injectionParams,
    body: z.strictObject({ reason: field.abortReason.optional() }),
    bodyRequired: false,
    answers: { '202': { description: 'Signalled.', schema: accepted } },
    errors: [...BODY_ERRORS, ...STEER_ERRORS],
  }),
  history: route({
    method: 'get',
    path: '/history/{agentId}',
    summary: "An agent's injections, newest first, with outcome, timings and trace",
    scope: 'read',
    params: z.strictObject({ agentId: field.agentId }),
    query: z.strictObject({
      limit: field.wholeNumberQuery({ min: 1, max: MAX_HISTORY_LIMIT, fallback: DEFAULT_HISTORY_LIMIT, description: 'Injections per page.' }),
      pageToken: field.pageToken.optional(),
    }),
    answers: {
      '200': {
        description: 'One page of the history.',
        schema: z.object({ agentId: z.string(), total: int(), showing: int(), history: z.array(historyEntry), nextPageToken }),
      },
    },
    errors: [...AUTH_ERRORS, 'INVALID_REQUEST'],
  }),
  compile: route({
    method: 'post',
    path: '/compile',
    summary: 'Compile only (dry run): unsigned bytecode no agent accepts, disassembly, rollout and the targets it would hit (asked of the workers)',
    scope: 'compile',
    query: z.strictObject({}),
    body: field.notBoth(
      z.strictObject({ instruction: field.instruction, context: field.context.optional(), agents: field.agentList.optional(), group: field.group.optional() }),
      'agents',
      'group',
      'give agents or group, not both',
    ),
    bodyRequired: true,
    answers: { '200': { description: 'Compiled.', schema: compileResult } },
    errors: [...BODY_ERRORS, ...AUTH_ERRORS, 'COMPILE_FAILED', 'WORKERS_UNAVAILABLE'],
  }),
  metrics: route({
    method: 'get',
    path: '/metrics',
    summary: 'Prometheus metrics',
    scope: 'read',
    answers: { '200': { description: 'Text exposition format 0.0.4.', schema: z.string(), contentType: 'text/plain' } },
    errors: AUTH_ERRORS,
  }),
  openapi: route({
    method: 'get',
    path: '/openapi.json',
    summary: 'This document',
    scope: 'read',
    answers: { '200': { description: 'OpenAPI 3.1.', schema: z.object({}).loose() } },
    errors: AUTH_ERRORS,
  }),
} satisfies Record<string, RouteSpec>;

export const ROUTE_LIST: readonly RouteSpec[] = Object.values(ROUTES);
