// The gateway's OpenAPI 3.1 document, written by hand; test/gateway/openapi.test.ts keeps it and the router in step.
import { MAX_SOURCE_BYTES } from '../compiler/limits';
import { AGENT_ID_PATTERN, INJECTION_ID_PATTERN, MAX_CONTEXT_JSON_BYTES, MAX_TARGET_AGENTS, ON_BUSY_CHOICES, PRIORITIES } from '../shared/injection-types';
import { MAX_PAGE_TOKEN_CHARS } from './validation';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

const ref = (name: string): Json => ({ $ref: `#/components/schemas/${name}` });
const errorResponse = (description: string): Json => ({ description, content: { 'application/json': { schema: ref('Error') } } });
const json = (description: string, schema: Json): Json => ({ description, content: { 'application/json': { schema } } });

const commonErrors: Record<string, Json> = {
  '401': errorResponse('No Authorization header (UNAUTHENTICATED).'),
  '403': errorResponse(
    "The bearer token is not accepted (FORBIDDEN), or it lacks this route's scope or group (FORBIDDEN_SCOPE, details.scope names the scope needed).",
  ),
};
const bodyErrors: Record<string, Json> = {
  '400': errorResponse('Malformed JSON (MALFORMED_JSON), a missing or bad field (INVALID_REQUEST, details.problems), or a program that does not compile (COMPILE_FAILED, details.diagnostics).'),
  '413': errorResponse('The body is over 256 KiB (BODY_TOO_LARGE).'),
};
const rateLimited: Record<string, Json> = { '429': errorResponse("Too many requests of this route's class (mutating, compile, read) from this token (RATE_LIMITED); see Retry-After.") };
const idParam: Json = { name: 'id', in: 'path', required: true, schema: { type: 'string', pattern: INJECTION_ID_PATTERN.source } };
const notFound: Record<string, Json> = { '404': errorResponse('No injection with this id (INJECTION_NOT_FOUND).') };
const closedConflict: Record<string, Json> = { '409': errorResponse('The injection is no longer running (INJECTION_CLOSED).') };
const pageTokenParam: Json = {
  name: 'pageToken',
  in: 'query',
  schema: { type: 'string', pattern: '^[A-Za-z0-9_-]+$', maxLength: MAX_PAGE_TOKEN_CHARS },
  description: "The previous page's nextPageToken; absent for the first page.",
};
const nextPageTokenSchema: Json = { type: ['string', 'null'], description: 'Pass as pageToken for the next page; null on the last page.' };
const noWorker: Record<string, Json> = { '503': errorResponse('No worker answered in time (WORKERS_UNAVAILABLE).') };

const startParams: Json[] = [
  { name: 'wait', in: 'query', schema: { type: 'string', enum: ['true', 'false'] }, description: 'Wait for the injection to end, at most timeoutSeconds.' },
  { name: 'timeoutSeconds', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 60, default: 60 } },
  { name: 'Idempotency-Key', in: 'header', schema: { type: 'string', minLength: 1, maxLength: 200 }, description: 'A retried request with the same key (and token) returns the same injection.' },
];
const startErrors: Record<string, Json> = {
  ...bodyErrors,
  ...commonErrors,
  ...rateLimited,
  '409': errorResponse('The Idempotency-Key was used for a different request (INJECTION_ID_CONFLICT), or onBusy is refuse and another injection holds some of the agents (AGENT_BUSY; details.busy names each agent and its holder).'),
  '503': errorResponse('With wait=true: too many requests are already waiting (TOO_MANY_WAITS); nothing was started. See Retry-After.'),
};

/** POST /inject and /inject-swarm: the same shape, with their own target fields, default priority and wait result. */
function startOperation(summary: string, required: string[], targetFields: Record<string, Json>, defaultPriority: string, waitResult: string): Json {
  return {
    summary,
    parameters: startParams,
    requestBody: {
      required: true,
      content: {
        'application/json': {
          schema: {
            type: 'object',
            additionalProperties: false,
            required,
            properties: {
              ...targetFields,
              instruction: ref('Instruction'),
              context: ref('Context'),
              priority: { type: 'string', enum: [...PRIORITIES], default: defaultPriority },
              onBusy: {
                type: 'string',
                enum: [...ON_BUSY_CHOICES],
                default: 'wait',
                description: 'When another injection holds some of the agents: wait for them (the status names the holder), or refuse at once with 409 AGENT_BUSY.',
              },
            },
          },
        },
      },
    },
    responses: {
      '202': json('Started (or found, for a repeated Idempotency-Key).', ref('Started')),
      '200': json('With wait=true: the injection ended in time.', ref(waitResult)),
      ...startErrors,
    },
  };
}

export const OPENAPI_DOCUMENT: Json = {
  openapi: '3.1.0',
  info: {
    title: 'OpenClaw Injector gateway',
    version: '1.0.0',
    description: 'Start, watch, steer and audit durable program injections into agent swarms. docs/api.md explains every route.',
  },
  security: [{ bearer: [] }],
  paths: {
    '/livez': {
      get: { summary: 'Liveness: the process answers (no upstream call)', security: [], responses: { '200': json('Alive.', ref('Probe')) } },
    },
    '/readyz': {
      get: {
        summary: 'Readiness: Temporal answers (cached for 2 s)',
        security: [],
        responses: { '200': json('Ready.', ref('Probe')), '503': json('Temporal does not answer.', ref('Probe')) },
      },
    },
    '/health': {
      get: {
        summary: 'Temporal and worker health, each only ok or not (cached for 2 s)',
        security: [],
        responses: { '200': json('Every part is healthy.', ref('Health')), '503': json('A part is not.', ref('Health')) },
      },
    },
    '/inject': {
      post: startOperation(
        'Inject a program into one agent (a swarm injection of one)',
        ['agentId', 'instruction'],
        { agentId: { type: 'string', pattern: AGENT_ID_PATTERN.source } },
        'medium',
        'InjectResult',
      ),
    },
    '/inject-swarm': {
      post: startOperation(
        "Inject a program into a swarm: explicit agents, a group, or the program's TARGET",
        ['instruction'],
        {
          agents: { type: 'array', minItems: 1, maxItems: MAX_TARGET_AGENTS, items: { type: 'string', pattern: AGENT_ID_PATTERN.source } },
          group: { type: 'string', pattern: AGENT_ID_PATTERN.source },
        },
        'high',
        'SwarmResult',
      ),
    },
    '/injections': {
      get: {
        summary: 'List injections, newest first',
        parameters: [
          { name: 'status', in: 'query', schema: { type: 'string' }, description: 'A swarm status, e.g. rolling-out or succeeded.' },
          { name: 'agent', in: 'query', schema: { type: 'string', pattern: AGENT_ID_PATTERN.source }, description: 'Only injections that reached this agent.' },
          { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 100, default: 20 }, description: 'Injections per page.' },
          pageTokenParam,
        ],
        responses: {
          '200': json('One page of matching injections.', {
            type: 'object',
            properties: { items: { type: 'array', items: ref('InjectionSummary') }, limit: { type: 'integer' }, nextPageToken: nextPageTokenSchema },
          }),
          '400': errorResponse('A bad filter or page token (INVALID_REQUEST).'),
          ...commonErrors,
          ...rateLimited,
        },
      },
    },
    '/injections/{id}': {
      get: {
        summary: "An injection's status, progress and one page of per-agent results",
        parameters: [
          idParam,
          { name: 'offset', in: 'query', schema: { type: 'integer', minimum: 0, default: 0 } },
          { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 500, default: 50 } },
        ],
        responses: { '200': json('The injection.', ref('Injection')), '400': errorResponse('Bad id or page.'), ...notFound, ...commonErrors, ...rateLimited, ...noWorker },
      },
      patch: {
        summary: 'Change how many agents are injected at once',
        parameters: [idParam],
        requestBody: {
          required: true,
          content: {
            'application/json': {
              schema: { type: 'object', additionalProperties: false, required: ['maxParallel'], properties: { maxParallel: { type: 'integer', minimum: 1, maximum: 1000 } } },
            },
          },
        },
        responses: {
          '200': json('Applied.', { type: 'object', properties: { injectionId: { type: 'string' }, maxParallel: { type: 'integer' }, previous: { type: 'integer' } } }),
          ...bodyErrors,
          ...notFound,
          ...closedConflict,
          ...commonErrors,
          ...rateLimited,
          ...noWorker,
        },
      },
    },
    '/injections/{id}/pause': {
      post: {
        summary: 'Stop launching agents (in-flight ones finish)',
        parameters: [idParam],
        responses: { '202': json('Signalled.', ref('Accepted')), ...notFound, ...closedConflict, ...commonErrors, ...rateLimited },
      },
    },
    '/injections/{id}/resume': {
      post: {
        summary: 'Launch agents again after a pause',
        parameters: [idParam],
        responses: { '202': json('Signalled.', ref('Accepted')), ...notFound, ...closedConflict, ...commonErrors, ...rateLimited },
      },
    },
    '/injections/{id}/abort': {
      post: {
        summary: 'Stop the rollout and roll back every agent it changed',
        parameters: [idParam],
        requestBody: {
          required: false,
          content: { 'application/json': { schema: { type: 'object', additionalProperties: false, properties: { reason: { type: 'string', maxLength: 500 } } } } },
        },
        responses: { '202': json('Signalled.', ref('Accepted')), ...bodyErrors, ...notFound, ...closedConflict, ...commonErrors, ...rateLimited },
      },
    },
    '/history/{agentId}': {
      get: {
        summary: "An agent's injections, newest first, with outcome, timings and trace",
        parameters: [
          { name: 'agentId', in: 'path', required: true, schema: { type: 'string', pattern: AGENT_ID_PATTERN.source } },
          { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 100, default: 20 }, description: 'Injections per page.' },
          pageTokenParam,
        ],
        responses: {
          '200': json('One page of the history.', {
            type: 'object',
            properties: {
              agentId: { type: 'string' },
              total: { type: 'integer' },
              showing: { type: 'integer' },
              history: { type: 'array', items: ref('AgentHistoryEntry') },
              nextPageToken: nextPageTokenSchema,
            },
          }),
          '400': errorResponse('Bad agent id, limit or page token.'),
          ...commonErrors,
          ...rateLimited,
        },
      },
    },
    '/compile': {
      post: {
        summary: 'Compile only (dry run): unsigned bytecode no agent accepts, disassembly, rollout and the targets it would hit (asked of the workers)',
        requestBody: {
          required: true,
          content: {
            'application/json': {
              schema: {
                type: 'object',
                additionalProperties: false,
                required: ['instruction'],
                properties: {
                  instruction: ref('Instruction'),
                  context: ref('Context'),
                  agents: { type: 'array', items: { type: 'string' } },
                  group: { type: 'string' },
                },
              },
            },
          },
        },
        responses: { '200': json('Compiled.', ref('CompileResult')), ...bodyErrors, ...commonErrors, ...rateLimited, ...noWorker },
      },
    },
    '/metrics': {
      get: {
        summary: 'Prometheus metrics',
        responses: { '200': { description: 'Text exposition format 0.0.4.', content: { 'text/plain': { schema: { type: 'string' } } } }, ...commonErrors, ...rateLimited },
      },
    },
    '/openapi.json': {
      get: { summary: 'This document', responses: { '200': json('OpenAPI 3.1.', { type: 'object' }), ...commonErrors, ...rateLimited } },
    },
  },
  components: {
    securitySchemes: {
      bearer: { type: 'http', scheme: 'bearer', description: 'One of OPENCLAW_API_TOKENS; its scopes (read, compile, inject, steer) decide the routes it reaches.' },
    },
    schemas: {
      Error: {
        type: 'object',
        required: ['error'],
        properties: { error: { type: 'object', required: ['code', 'message'], properties: { code: { type: 'string' }, message: { type: 'string' }, details: {} } } },
      },
      Instruction: { type: 'string', minLength: 1, description: `A DSL program (docs/dsl.md), at most ${MAX_SOURCE_BYTES} bytes.` },
      Context: { type: 'object', description: `Values the program reads as \${name}; at most ${MAX_CONTEXT_JSON_BYTES} bytes of JSON; __proto__, constructor and prototype keys are refused.` },
      Started: {
        type: 'object',
        required: ['injectionId', 'statusUrl', 'created'],
        properties: { injectionId: { type: 'string' }, statusUrl: { type: 'string' }, created: { type: 'boolean' }, agentId: { type: 'string' } },
      },
      Accepted: {
        type: 'object',
        properties: {
          injectionId: { type: 'string' },
          accepted: { type: 'string' },
          by: { type: 'string', description: "The token's principal, recorded with the signal." },
          statusUrl: { type: 'string' },
          reason: { type: ['string', 'null'] },
        },
      },
      InjectResult: {
        type: 'object',
        properties: {
          injectionId: { type: 'string' },
          agentId: { type: 'string' },
          success: { type: 'boolean' },
          status: { type: 'string' },
          outcome: { type: ['string', 'null'] },
          error: { type: ['string', 'null'] },
          executionTime: { type: ['integer', 'null'] },
          timings: { type: 'array', items: { type: 'object' } },
          trace: { type: ['object', 'null'] },
        },
      },
      SwarmResult: {
        type: 'object',
        properties: {
          injectionId: { type: 'string' },
          status: { type: 'string' },
          instruction: { type: 'string' },
          totalAgents: { type: 'integer' },
          successful: { type: 'integer' },
          failed: { type: 'integer' },
          results: { type: 'array', items: { type: 'object' } },
          resultsTruncated: { type: 'boolean' },
          summary: { type: 'string' },
        },
      },
      Injection: {
        type: 'object',
        properties: {
          injectionId: { type: 'string' },
          workflowStatus: { type: 'string' },
          status: { type: 'string' },
          done: { type: 'boolean' },
          startedAt: { type: 'string' },
          closedAt: { type: ['string', 'null'] },
          wave: { type: ['string', 'null'] },
          paused: { type: 'boolean' },
          maxParallel: { type: ['integer', 'null'] },
          failureBudget: { type: ['integer', 'null'] },
          deadline: { type: ['string', 'null'] },
          msUntilDeadline: { type: ['integer', 'null'] },
          rollout: { type: ['object', 'null'] },
          counts: { type: ['object', 'null'] },
          agents: { type: 'object', properties: { offset: { type: 'integer' }, limit: { type: 'integer' }, total: { type: 'integer' }, items: { type: 'array', items: { type: 'object' } } } },
          error: { type: 'object' },
        },
      },
      InjectionSummary: {
        type: 'object',
        properties: {
          injectionId: { type: 'string' },
          workflowStatus: { type: 'string' },
          status: { type: ['string', 'null'] },
          startedAt: { type: 'string' },
          closedAt: { type: ['string', 'null'] },
          statusUrl: { type: 'string' },
        },
      },
      AgentHistoryEntry: {
        type: 'object',
        properties: {
          injectionId: { type: 'string' },
          workflowId: { type: 'string' },
          outcome: { type: 'string' },
          startedAt: { type: 'string' },
          closedAt: { type: ['string', 'null'] },
          timings: { type: 'array', items: { type: 'object', properties: { step: { type: 'string' }, ms: { type: 'number' } } } },
          trace: { type: ['object', 'null'] },
          error: { type: ['object', 'null'] },
        },
      },
      CompileResult: {
        type: 'object',
        properties: {
          ok: { type: 'boolean' },
          dryRun: { type: 'boolean', const: true },
          programId: { type: 'string', const: 'dry-run' },
          signature: { type: 'string' },
          bytecode: { type: 'string', contentEncoding: 'base64', description: 'Unsigned (only workers seal programs, per agent): no agent accepts it.' },
          bytes: { type: 'integer' },
          sha256: { type: 'string' },
          disassembly: { type: 'string' },
          rollout: { type: 'object' },
          directives: { type: 'array' },
          diagnostics: { type: 'array' },
          targets: { type: 'object' },
        },
      },
      Probe: { type: 'object', properties: { status: { type: 'string', enum: ['ok', 'unavailable'] } } },
      Health: {
        type: 'object',
        properties: {
          status: { type: 'string', enum: ['ok', 'unavailable'] },
          parts: { type: 'object', properties: { temporal: { type: 'object', properties: { ok: { type: 'boolean' } } }, worker: { type: 'object', properties: { ok: { type: 'boolean' } } } } },
        },
      },
    },
  },
};
