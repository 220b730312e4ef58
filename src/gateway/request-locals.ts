// What the gateway's middleware leaves on a request for the rest of it to read: its id, its logger, who made it, the
// route it matched. A leaf module (nothing of the gateway imported), so auth, logging and errors can all read them.
import type { Request, Response } from 'express';
import type { Logger } from '../shared/logger';

/** Principal of a request that has not (yet) authenticated, e.g. in the access log of a 401. */
export const UNAUTHENTICATED_PRINCIPAL = '-';

export function requestIdOf(res: Response): string {
  const id: unknown = res.locals.requestId;
  return typeof id === 'string' ? id : 'none';
}

/** The request's logger: carries its request id (and trace id, with tracing on). */
export function requestLogger(res: Response, fallback: Logger): Logger {
  const logger = res.locals.logger as Logger | undefined;
  return logger ?? fallback;
}

/** Who made the request, as the auth middleware established it. */
export function principalOf(res: Response): string {
  const principal: unknown = res.locals.principal;
  return typeof principal === 'string' ? principal : UNAUTHENTICATED_PRINCIPAL;
}

/** The route pattern a request matched (`/injections/:id`), for metric labels and span names; `unmatched` for 404s. */
export function routeOf(req: Request): string {
  const route = (req as { route?: { path?: unknown } }).route;
  return typeof route?.path === 'string' ? route.path : 'unmatched';
}
