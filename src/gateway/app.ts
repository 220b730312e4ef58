// The gateway's Express app: validates, talks to Temporal, maps errors. Exported for tests; `listen` lives in main.ts.
import express, { Express } from 'express';
import type { Logger } from '../shared/logger';
import { bearerAuth } from './auth';
import { errorHandler, notFoundHandler } from './errors';
import { checkHealth, HealthDeps } from './health';

/** Largest request body accepted; a program source is bounded far below this by the compiler. */
export const MAX_BODY_BYTES = 256 * 1024;

export interface GatewayDeps {
  health: HealthDeps;
  apiTokens: readonly string[];
  logger: Logger;
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

  app.use(notFoundHandler);
  app.use(errorHandler(deps.logger));
  return app;
}
