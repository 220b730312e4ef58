// Per request, with tracing on: one server span (`POST /inject-swarm`), the root of the injection's trace or a child of
// the caller's `traceparent`; the Temporal client's interceptors start the workflow inside it, so the workflows, the
// children and the activities join the same trace.
import * as otel from '@opentelemetry/api';
import type { Request, RequestHandler } from 'express';
import { routeOf } from './request-locals';

/** The incoming headers as a carrier: Express gives repeated headers as arrays, the propagator reads the first. */
const headerGetter: otel.TextMapGetter<Request> = {
  keys: (req) => Object.keys(req.headers),
  get: (req, key) => req.headers[key],
};

export function requestSpans(tracer: otel.Tracer): RequestHandler {
  return (req, res, next) => {
    const parent = otel.propagation.extract(otel.context.active(), req, headerGetter);
    const span = tracer.startSpan(`${req.method}`, { kind: otel.SpanKind.SERVER, attributes: { 'http.request.method': req.method, 'url.path': req.path } }, parent);
    const context = otel.trace.setSpan(parent, span);
    // The body arrives in stream events, which run outside this request's async context: bind them to it, so the
    // route (after express.json) still runs inside the span.
    otel.context.bind(context, req);
    otel.context.bind(context, res);
    let ended = false;
    const end = () => {
      if (ended) return;
      ended = true;
      const route = routeOf(req);
      span.updateName(`${req.method} ${route}`);
      span.setAttribute('http.route', route);
      if (res.headersSent) {
        span.setAttribute('http.response.status_code', res.statusCode);
        if (res.statusCode >= 500) span.setStatus({ code: otel.SpanStatusCode.ERROR });
      } else {
        span.setStatus({ code: otel.SpanStatusCode.ERROR, message: 'connection closed before the answer' });
      }
      span.end();
    };
    res.once('finish', end);
    res.once('close', end);
    otel.context.with(context, next);
  };
}
