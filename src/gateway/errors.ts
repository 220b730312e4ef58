// Typed API errors and the one error middleware that maps them to `{error: {code, message, details}}`.
import type { ErrorRequestHandler, RequestHandler } from 'express';
import type { Logger } from '../shared/logger';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
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
    if (apiError.status >= 500) logger.error('request failed', { method: req.method, path: req.path, err });
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
    const code =
      e.type === 'entity.too.large' ? 'BODY_TOO_LARGE' : e.type === 'entity.parse.failed' ? 'MALFORMED_JSON' : e.type === 'encoding.unsupported' ? 'UNSUPPORTED_ENCODING' : 'BAD_REQUEST';
    const message =
      code === 'BODY_TOO_LARGE' ? 'request body is over the size limit' : code === 'MALFORMED_JSON' ? 'request body is not valid JSON' : (e.message ?? 'bad request');
    return new ApiError(e.status, code, message);
  }
  return new ApiError(500, 'INTERNAL', 'internal error; the gateway log has the details');
}
