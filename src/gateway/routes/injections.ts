// Watching and steering: GET /injections, GET /injections/:id, POST …/pause|resume|abort, PATCH /injections/:id.
import { RequestHandler, Response, Router } from 'express';
import { MAX_MAX_PARALLEL, MIN_MAX_PARALLEL } from '../../compiler';
import { FINAL_SWARM_STATUSES, OperatorAction, SwarmStatus } from '../../shared/injection-types';
import { principalOf, requireGroup } from '../auth';
import type { InjectionService, SteerGuard } from '../injection-service';
import { requestIdOf } from '../request-log';
import { agentIdParam, Checker, injectionIdParam, intQuery, knownQuery, MAX_ABORT_REASON_CHARS, objectBody, optionalString, pageTokenQuery } from '../validation';
import { statusUrl } from './start';

/** Per-agent entries in one page of GET /injections/:id (the workflow's own query caps pages at the same size). */
export const MAX_AGENT_PAGE = 500;
export const DEFAULT_AGENT_PAGE = 50;
export const MAX_LIST_LIMIT = 100;
export const DEFAULT_LIST_LIMIT = 20;

const LISTABLE_STATUSES: readonly string[] = ['compiling', 'resolving', 'canary', 'rolling-out', 'waiting-for-agents', 'paused', 'rolling-back', ...FINAL_SWARM_STATUSES] satisfies readonly SwarmStatus[];

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

  router.get('/injections', ...deps.read, async (req, res) => {
    const check = new Checker();
    const query = knownQuery(req.query, ['status', 'agent', 'limit', 'pageToken'], check);
    const status = optionalString(query.status, 'status', check);
    if (status !== undefined && !LISTABLE_STATUSES.includes(status)) check.add('status', `expected one of ${LISTABLE_STATUSES.join(', ')}`);
    const agent = query.agent === undefined ? undefined : agentIdParam(query.agent);
    const limit = intQuery(query.limit, 'limit', { min: 1, max: MAX_LIST_LIMIT, fallback: DEFAULT_LIST_LIMIT }, check);
    const pageToken = pageTokenQuery(query.pageToken, check);
    check.done();
    const { items, nextPageToken } = await deps.injections.list({ status, agentId: agent, limit, pageToken });
    res.json({ items: items.map((i) => ({ ...i, statusUrl: statusUrl(i.injectionId) })), limit, nextPageToken });
  });

  router.get('/injections/:id', ...deps.read, async (req, res) => {
    const injectionId = injectionIdParam(req.params.id);
    const check = new Checker();
    const query = knownQuery(req.query, ['offset', 'limit'], check);
    const offset = intQuery(query.offset, 'offset', { min: 0, max: 1_000_000, fallback: 0 }, check);
    const limit = intQuery(query.limit, 'limit', { min: 1, max: MAX_AGENT_PAGE, fallback: DEFAULT_AGENT_PAGE }, check);
    check.done();
    res.json(await deps.injections.view(injectionId, { offset, limit }));
  });

  const signal = (kind: 'pause' | 'resume'): RequestHandler => async (req, res) => {
    const injectionId = injectionIdParam(req.params.id);
    const action = operatorAction(res);
    await deps.injections[kind](injectionId, action, steerGuard(res, injectionId));
    res.status(202).json({ injectionId, accepted: kind, by: action.by, statusUrl: statusUrl(injectionId) });
  };
  router.post('/injections/:id/pause', ...deps.steer, signal('pause'));
  router.post('/injections/:id/resume', ...deps.steer, signal('resume'));

  router.post('/injections/:id/abort', ...deps.steer, async (req, res) => {
    const injectionId = injectionIdParam(req.params.id);
    const check = new Checker();
    // An empty body is fine here: abort needs nothing, a reason is optional.
    const body = req.body === undefined ? {} : objectBody(req.body, ['reason'], check);
    // The caller's text, recorded beside who aborted (action.by, from the token): a reason cannot pose as another operator.
    const reason = optionalString(body.reason, 'reason', check, { maxBytes: MAX_ABORT_REASON_CHARS });
    check.done();
    const action = operatorAction(res);
    await deps.injections.abort(injectionId, reason, action, steerGuard(res, injectionId));
    res.status(202).json({ injectionId, accepted: 'abort', reason: reason ?? null, by: action.by, statusUrl: statusUrl(injectionId) });
  });

  router.patch('/injections/:id', ...deps.steer, async (req, res) => {
    const injectionId = injectionIdParam(req.params.id);
    const check = new Checker();
    const body = objectBody(req.body, ['maxParallel'], check);
    const value = body.maxParallel;
    if (value === undefined) check.add('maxParallel', 'is required');
    else if (typeof value !== 'number' || !Number.isInteger(value) || value < MIN_MAX_PARALLEL || value > MAX_MAX_PARALLEL) {
      check.add('maxParallel', `expected a whole number from ${MIN_MAX_PARALLEL} to ${MAX_MAX_PARALLEL}`);
    }
    check.done();
    const action = operatorAction(res);
    const previous = await deps.injections.setMaxParallel(injectionId, value as number, action, steerGuard(res, injectionId));
    res.json({ injectionId, maxParallel: value, previous, by: action.by });
  });

  return router;
}
