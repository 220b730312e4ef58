// The gateway's Express app: validates, talks to Temporal, maps errors. Exported for tests; `listen` lives in main.ts.
import type { Tracer } from '@opentelemetry/api';
import express, { Express } from 'express';
import type { ApiTokenGrant } from '../shared/api-tokens';
import type { Logger } from '../shared/logger';
import { bearerAuth } from './auth';
import { errorHandler, notFoundHandler } from './errors';
import type { HealthProbes } from './health';
import { loopbackHostOnly } from './host-check';
import type { InjectionService } from './injection-service';
import type { GatewayMetrics } from './metrics';
import type { ProgramChecker } from './program-check';
import { DEFAULT_RATE_LIMITS, rateLimit, RateLimits } from './rate-limit';
import { requestContext } from './request-log';
import { requestSpans } from './request-span';
import { compileRoutes } from './routes/compile';
import { historyRoutes } from './routes/history';
import { injectionRoutes } from './routes/injections';
import { metricsRoutes } from './routes/metrics';
import { openapiRoutes } from './routes/openapi';
import { startRoutes } from './routes/start';
import { ROUTES } from './schema/routes';
import { handle } from './schema/validate';
import type { TargetResolver } from './target-resolver';

/** Largest request body accepted; a program source is bounded far below this by the compiler. */
export const MAX_BODY_BYTES = 256 * 1024;

export interface GatewayDeps {
  health: HealthProbes;
  /** Accepted tokens with their scopes; at least one (dev mode generates one). */
  apiTokens: readonly ApiTokenGrant[];
  logger: Logger;
  injections: InjectionService;
  /** The gateway's compiler (program-check.ts): its output is unsigned, and it holds no signing key. */
  programs: ProgramChecker;
  /** POST /compile's "targets it would hit", asked of the workers. */
  targets: TargetResolver;
  metrics: GatewayMetrics;
  /** Per class of route; each class missing here takes DEFAULT_RATE_LIMITS. */
  rateLimits?: Partial<RateLimits>;
  /** Upper bound of `?wait=true`, in seconds (default MAX_WAIT_SECONDS). */
  maxWaitSeconds?: number;
  /** Dev mode: answer only Host loopback-name:port (DNS rebinding); the port is read per request (known after listen). */
  loopbackHostPort?: () => number;
  /** OpenTelemetry (src/telemetry/tracing.ts): a server span per request; absent, no tracing code runs per request. */
  tracer?: Tracer;
}

export function createApp(deps: GatewayDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('query parser', 'simple');
  // Requests come straight from clients (no proxy is trusted): req.ip is the socket's address.
  app.set('trust proxy', false);

  if (deps.tracer) app.use(requestSpans(deps.tracer));
  app.use(requestContext(deps.logger, deps.metrics));
  if (deps.loopbackHostPort) app.use(loopbackHostOnly(deps.loopbackHostPort));

  const probes = express.Router();
  handle(probes, ROUTES.livez, [], (_input, _req, res) => {
    res.json({ status: 'ok' });
  });
  handle(probes, ROUTES.readyz, [], async (_input, _req, res) => {
    const ready = await deps.health.ready();
    res.status(ready ? 200 : 503).json({ status: ready ? 'ok' : 'unavailable' });
  });
  handle(probes, ROUTES.health, [], async (_input, _req, res) => {
    const report = await deps.health.health();
    res.status(report.status === 'ok' ? 200 : 503).json(report);
  });
  app.use(probes);

  app.use(bearerAuth(deps.apiTokens));
  app.use(express.json({ limit: MAX_BODY_BYTES, strict: true }));

  const limits = { ...DEFAULT_RATE_LIMITS, ...deps.rateLimits };
  const [mutating, compiling, reading] = [rateLimit(limits.mutating), rateLimit(limits.compile), rateLimit(limits.read)];
  // Each route's scope check comes from its entry (schema/routes.ts); these are the rate limits after it.
  const read = [reading];
  app.use(startRoutes({ injections: deps.injections, programs: deps.programs, maxWaitSeconds: deps.maxWaitSeconds, guards: [mutating, compiling] }));
  app.use(injectionRoutes({ injections: deps.injections, read, steer: [mutating] }));
  app.use(historyRoutes({ injections: deps.injections, read }));
  app.use(compileRoutes({ programs: deps.programs, targets: deps.targets, guards: [compiling] }));
  app.use(metricsRoutes({ metrics: deps.metrics, read }));
  app.use(openapiRoutes({ read }));

  app.use(notFoundHandler);
  app.use(errorHandler(deps.logger));
  return app;
}
