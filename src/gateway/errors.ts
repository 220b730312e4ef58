// Typed API errors and the one error middleware that maps them to `{error: {code, message, details}}`.
import type { ErrorRequestHandler, RequestHandler } from 'express';
import type { Logger } from '../shared/logger';
import { API_ERRORS, ApiErrorCode, ApiErrorStatus } from './error-codes';
import { requestLogger } from './request-locals';

/** Causes followed when an error is logged; a longer chain is cut (a cycle would otherwise never end). */
export const MAX_LOGGED_CAUSE_DEPTH = 8;

export interface LoggedError {
  name: string;
  message: string;
  code?: unknown;
  stack?: string;
  cause?: LoggedError | string;
}

/** An error for the log: name, message, code, stack and its cause chain. Never sent to a client. */
export function errorDetails(err: unknown, depth = 0): LoggedError | string {
  if (!(err instanceof Error)) return String(err);
  const e = err as Error & { code?: unknown };
  const details: LoggedError = { name: e.name, message: e.message, ...(e.code !== undefined ? { code: e.code } : {}), ...(e.stack ? { stack: e.stack } : {}) };
  if (e.cause !== undefined) details.cause = depth + 1 >= MAX_LOGGED_CAUSE_DEPTH ? '(cause chain cut)' : errorDetails(e.cause, depth + 1);
  return details;
}

/** An answer of one of API_ERRORS: the compiler holds the status to the code's (`new ApiError(404, 'NO_TARGETS', …)` does not build). */
export class ApiError<C extends ApiErrorCode = ApiErrorCode> extends Error {
  constructor(
    readonly status: ApiErrorStatus<C>,
    readonly code: C,
    message: string,
    readonly details?: unknown,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'ApiError';
  }
}

export interface ErrorBody {
  error: { code: string; message: string; details?: unknown };
}

export const notFoundHandler: RequestHandler = (req, _res, next) => {
  next(new ApiError(404, 'NOT_FOUND', `no route for ${req.method} ${req.path}`));
};

/** Maps every error to one JSON shape; no stack trace ever reaches a client. */
export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (err: unknown, req, res, _next) => {
    const apiError = toApiError(err);
    // An unexpected error is logged as an error; a known 5xx (no worker answered, waits full) as a warning; both whole.
    if (apiError.status >= 500) requestLogger(res, logger)[err instanceof ApiError ? 'warn' : 'error']('request failed', { method: req.method, path: req.path, code: apiError.code, err: errorDetails(err) });
    const retryAfter = (apiError.details as { retryAfterSeconds?: unknown } | undefined)?.retryAfterSeconds;
    if (typeof retryAfter === 'number' && !res.get('Retry-After')) res.set('Retry-After', String(retryAfter));
    const body: ErrorBody = { error: { code: apiError.code, message: apiError.message } };
    if (apiError.details !== undefined) body.error.details = apiError.details;
    res.status(apiError.status).json(body);
  };
}

function toApiError(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  // Errors raised by Express's own body parser carry a status and a type.
  const e = err as { status?: number; type?: string; message?: string };
  if (e && typeof e.status === 'number' && e.status >= 400 && e.status < 500) {
    const code: ApiErrorCode =
      e.type === 'entity.too.large'
        ? 'BODY_TOO_LARGE'
        : e.type === 'entity.parse.failed'
          ? 'MALFORMED_JSON'
          : e.type === 'encoding.unsupported' || e.type === 'charset.unsupported'
            ? 'UNSUPPORTED_ENCODING'
            : 'BAD_REQUEST';
    const message =
      code === 'BODY_TOO_LARGE' ? 'request body is over the size limit' : code === 'MALFORMED_JSON' ? 'request body is not valid JSON' : (e.message ?? 'bad request');
    return new ApiError(API_ERRORS[code].status, code, message);
  }
  return new ApiError(500, 'INTERNAL', 'internal error; the gateway log has the details');
}
