// Per request: an id (a sane incoming X-Request-Id, else a new one) in the answer header and on every log line, and one
// access line when the answer is sent (method, path without the query, status, ms, principal, request id).
import { randomUUID } from 'node:crypto';
import { trace } from '@opentelemetry/api';
import type { RequestHandler } from 'express';
import type { Logger } from '../shared/logger';
import type { GatewayMetrics } from './metrics';
import { principalOf, routeOf } from './request-locals';

export const REQUEST_ID_HEADER = 'X-Request-Id';
/** An incoming request id is kept when it is this short and of these characters; anything else is replaced. */
export const MAX_REQUEST_ID_CHARS = 128;
const REQUEST_ID_PATTERN = new RegExp(`^[A-Za-z0-9._:-]{1,${MAX_REQUEST_ID_CHARS}}$`);
/** Longest path written to the access log; a longer one is cut (the route's own validation refuses it anyway). */
export const MAX_LOGGED_PATH_CHARS = 300;

export function requestContext(logger: Logger, metrics: GatewayMetrics, now: () => number = Date.now): RequestHandler {
  return (req, res, next) => {
    const started = now();
    const incoming = req.get(REQUEST_ID_HEADER);
    const requestId = incoming !== undefined && REQUEST_ID_PATTERN.test(incoming) ? incoming : randomUUID();
    res.locals.requestId = requestId;
    // With tracing on (request-span.ts runs first), every line also names the trace the request belongs to.
    const traceId = trace.getActiveSpan()?.spanContext().traceId;
    res.locals.logger = logger.child(traceId === undefined ? { requestId } : { requestId, traceId });
    res.set(REQUEST_ID_HEADER, requestId);
    let logged = false;
    const done = () => {
      if (logged) return;
      logged = true;
      const ms = now() - started;
      const route = routeOf(req);
      metrics.requestFinished(req.method, route, res.statusCode, ms / 1000);
      (res.locals.logger as Logger).info('request', {
        method: req.method,
        path: req.path.slice(0, MAX_LOGGED_PATH_CHARS),
        status: res.headersSent ? res.statusCode : 499,
        ms,
        principal: principalOf(res),
      });
    };
    res.once('finish', done);
    res.once('close', done);
    next();
  };
}
