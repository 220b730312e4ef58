// Watching and steering: GET /injections, GET /injections/:id, POST …/pause|resume|abort, PATCH /injections/:id.
import { RequestHandler, Response, Router } from 'express';
import type { OperatorAction } from '../../shared/injection-types';
import { requireGroup } from '../auth';
import type { InjectionService, SteerGuard } from '../injection-service';
import { principalOf, requestIdOf } from '../request-locals';
import { ROUTES } from '../schema/routes';
import { handle } from '../schema/validate';
import { statusUrl } from './start';

export { DEFAULT_AGENT_PAGE, DEFAULT_LIST_LIMIT, MAX_AGENT_PAGE, MAX_LIST_LIMIT } from '../schema/routes';

/** Who steers, from the token (never from the body), and under which request. */
function operatorAction(res: Response): OperatorAction {
  return { by: principalOf(res), requestId: requestIdOf(res) };
}

/** A group-limited steer scope may steer only injections started on one of its groups. */
function steerGuard(res: Response, injectionId: string): SteerGuard {
  return (target) => requireGroup(res, 'steer', target.group, `injection ${injectionId}`);
}

export function injectionRoutes(deps: { injections: InjectionService; read: RequestHandler[]; steer: RequestHandler[] }): Router {
  const router = Router();

  handle(router, ROUTES.listInjections, deps.read, async ({ query }, _req, res) => {
    const { status, agent, limit, pageToken } = query;
    const { items, nextPageToken } = await deps.injections.list({ status, agentId: agent, limit, pageToken });
    res.json({ items: items.map((i) => ({ ...i, statusUrl: statusUrl(i.injectionId) })), limit, nextPageToken });
  });

  handle(router, ROUTES.getInjection, deps.read, async ({ params, query }, _req, res) => {
    res.json(await deps.injections.view(params.id, { offset: query.offset, limit: query.limit }));
  });

  const signal = (kind: 'pause' | 'resume') => async ({ params }: { params: { id: string } }, _req: unknown, res: Response) => {
    const injectionId = params.id;
    const action = operatorAction(res);
    await deps.injections[kind](injectionId, action, steerGuard(res, injectionId));
    res.status(202).json({ injectionId, accepted: kind, by: action.by, statusUrl: statusUrl(injectionId) });
  };
  handle(router, ROUTES.pause, deps.steer, signal('pause'));
  handle(router, ROUTES.resume, deps.steer, signal('resume'));

  // An empty body is fine here (the entry's body is optional): abort needs nothing, a reason is optional.
  handle(router, ROUTES.abort, deps.steer, async ({ params, body }, _req, res) => {
    const injectionId = params.id;
    // The caller's text, recorded beside who aborted (action.by, from the token): a reason cannot pose as another operator.
    const reason = body.reason;
    const action = operatorAction(res);
    await deps.injections.abort(injectionId, reason, action, steerGuard(res, injectionId));
    res.status(202).json({ injectionId, accepted: 'abort', reason: reason ?? null, by: action.by, statusUrl: statusUrl(injectionId) });
  });

  handle(router, ROUTES.setMaxParallel, deps.steer, async ({ params, body }, _req, res) => {
    const injectionId = params.id;
    const action = operatorAction(res);
    const previous = await deps.injections.setMaxParallel(injectionId, body.maxParallel, action, steerGuard(res, injectionId));
    res.json({ injectionId, maxParallel: body.maxParallel, previous, by: action.by });
  });

  return router;
}
