// GET /history/:agentId: the agent's injections, newest first, each with its outcome, timings and trace.
import { RequestHandler, Router } from 'express';
import { InjectionService } from '../injection-service';
import { agentIdParam, Checker, intQuery, knownQuery, pageTokenQuery } from '../validation';

/** Each entry carries a trace (bounded by MAX_TRACE_BYTES_IN_RESULT), so a page stays small. */
export const MAX_HISTORY_LIMIT = 100;
export const DEFAULT_HISTORY_LIMIT = 20;

export function historyRoutes(deps: { injections: InjectionService; read: RequestHandler[] }): Router {
  const router = Router();
  router.get('/history/:agentId', ...deps.read, async (req, res) => {
    const agentId = agentIdParam(req.params.agentId);
    const check = new Checker();
    const query = knownQuery(req.query, ['limit', 'pageToken'], check);
    const limit = intQuery(query.limit, 'limit', { min: 1, max: MAX_HISTORY_LIMIT, fallback: DEFAULT_HISTORY_LIMIT }, check);
    const pageToken = pageTokenQuery(query.pageToken, check);
    check.done();
    const { total, entries, nextPageToken } = await deps.injections.agentHistory(agentId, limit, pageToken);
    res.json({ agentId, total, showing: entries.length, history: entries, nextPageToken });
  });
  return router;
}
