// GET /metrics: Prometheus text exposition of the gateway's counters and histogram.
import { Router } from 'express';
import type { GatewayMetrics } from '../metrics';

export function metricsRoutes(deps: { metrics: GatewayMetrics }): Router {
  const router = Router();
  router.get('/metrics', (_req, res) => {
    res.type('text/plain; version=0.0.4; charset=utf-8').send(deps.metrics.render());
  });
  return router;
}
