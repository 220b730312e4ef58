// Every error code the gateway answers with, its HTTP status and when it comes: ApiError takes only these, the document lists them per route.

export const API_ERRORS = {
  MALFORMED_JSON: { status: 400, when: 'the body is not valid JSON' },
  BAD_REQUEST: { status: 400, when: 'the body parser refused the request for another reason' },
  INVALID_REQUEST: { status: 400, when: 'a missing, unknown or malformed field, query parameter, header or path id; details.problems lists every one' },
  COMPILE_FAILED: { status: 400, when: 'the program does not compile; details.diagnostics lists every diagnostic' },
  NO_TARGETS: { status: 400, when: 'no agents or group was given and the program has no TARGET' },
  UNAUTHENTICATED: { status: 401, when: 'no Authorization header' },
  FORBIDDEN: { status: 403, when: 'the bearer token is not accepted' },
  FORBIDDEN_SCOPE: { status: 403, when: "the token lacks the route's scope, or its group-limited scope does not cover the target; details.scope names the scope needed" },
  INJECTION_NOT_FOUND: { status: 404, when: 'no injection with this id' },
  NOT_FOUND: { status: 404, when: 'no such route' },
  INJECTION_CLOSED: { status: 409, when: 'the injection is no longer running' },
  INJECTION_ID_CONFLICT: { status: 409, when: 'the Idempotency-Key was used for a different request' },
  AGENT_BUSY: { status: 409, when: 'onBusy is refuse and another injection holds some of the agents; details.busy names each agent and its holder' },
  BODY_TOO_LARGE: { status: 413, when: 'the body is over 256 KiB' },
  UNSUPPORTED_ENCODING: { status: 415, when: 'the body has a Content-Encoding the gateway does not read' },
  HOST_NOT_ALLOWED: { status: 421, when: "dev mode only: the Host header is not a loopback name with the gateway's port" },
  RATE_LIMITED: { status: 429, when: "too many requests of this route's class from this token; see Retry-After and details.retryAfterSeconds" },
  INTERNAL: { status: 500, when: 'anything unexpected; the gateway log has the details' },
  WORKERS_UNAVAILABLE: { status: 503, when: 'no worker answered in time' },
  TOO_MANY_WAITS: { status: 503, when: 'with wait=true: too many requests already wait; nothing was started; see Retry-After' },
} as const satisfies Record<string, { status: number; when: string }>;

export type ApiErrorCode = keyof typeof API_ERRORS;
export type ApiErrorStatus<C extends ApiErrorCode> = (typeof API_ERRORS)[C]['status'];
