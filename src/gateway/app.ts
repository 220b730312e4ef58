// The gateway's Express app: validates, talks to Temporal, maps errors. Exported for tests; `listen` lives in main.ts.
import express, { Express } from 'express';
import type { DockerAdapter } from '../docker';
import type { Logger } from '../shared/logger';
import { bearerAuth } from './auth';
import { errorHandler, notFoundHandler } from './errors';
import { checkHealth, HealthDeps } from './health';
import type { InjectionService } from './injection-service';
import type { GatewayMetrics } from './metrics';
import { DEFAULT_RATE_LIMIT, rateLimit, RateLimitOptions } from './rate-limit';
import { compileRoutes } from './routes/compile';
import { historyRoutes } from './routes/history';
import { injectionRoutes } from './routes/injections';
import { metricsRoutes } from './routes/metrics';
import { openapiRoutes } from './routes/openapi';
import { startRoutes } from './routes/start';

/** Largest request body accepted; a program source is bounded far below this by the compiler. */
export const MAX_BODY_BYTES = 256 * 1024;

export interface GatewayDeps {
  health: HealthDeps;
  apiTokens: readonly string[];
  logger: Logger;
  injections: InjectionService;
  /** Only for POST /compile's "targets it would hit". */
  docker: Pick<DockerAdapter, 'listAgents'>;
  metrics: GatewayMetrics;
  rateLimit?: RateLimitOptions;
  /** Upper bound of `?wait=true`, in seconds (default MAX_WAIT_SECONDS). */
  maxWaitSeconds?: number;
}

export function createApp(deps: GatewayDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('query parser', 'simple');

  app.get('/health', async (_req, res) => {
    const report = await checkHealth(deps.health);
    res.status(report.status === 'ok' ? 200 : 503).json(report);
  });

  app.use(bearerAuth(deps.apiTokens));
  app.use(express.json({ limit: MAX_BODY_BYTES, strict: true }));

  const mutating = rateLimit(deps.rateLimit ?? DEFAULT_RATE_LIMIT);
  app.use(startRoutes({ injections: deps.injections, maxWaitSeconds: deps.maxWaitSeconds, mutating }));
  app.use(injectionRoutes({ injections: deps.injections, mutating }));
  app.use(historyRoutes({ injections: deps.injections }));
  app.use(compileRoutes({ docker: deps.docker }));
  app.use(metricsRoutes({ metrics: deps.metrics }));
  app.use(openapiRoutes());

  app.use(notFoundHandler);
  app.use(errorHandler(deps.logger));
  return app;
}
