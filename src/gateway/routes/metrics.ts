// GET /metrics: Prometheus text exposition of the gateway's counters and histogram.
import { RequestHandler, Router } from 'express';
import type { GatewayMetrics } from '../metrics';
import { ROUTES } from '../schema/routes';
import { handle } from '../schema/validate';

export function metricsRoutes(deps: { metrics: GatewayMetrics; read: RequestHandler[] }): Router {
  const router = Router();
  handle(router, ROUTES.metrics, deps.read, (_input, _req, res) => {
    res.type('text/plain; version=0.0.4; charset=utf-8').send(deps.metrics.render());
  });
  return router;
}
