// GET /history/:agentId: the agent's injections, newest first, each with its outcome, timings and trace.
import { RequestHandler, Router } from 'express';
import { InjectionService } from '../injection-service';
import { ROUTES } from '../schema/routes';
import { handle } from '../schema/validate';

export { DEFAULT_HISTORY_LIMIT, MAX_HISTORY_LIMIT } from '../schema/routes';

export function historyRoutes(deps: { injections: InjectionService; read: RequestHandler[] }): Router {
  const router = Router();
  handle(router, ROUTES.history, deps.read, async ({ params, query }, _req, res) => {
    const { agentId } = params;
    const { total, entries, nextPageToken } = await deps.injections.agentHistory(agentId, query.limit, query.pageToken);
    res.json({ agentId, total, showing: entries.length, history: entries, nextPageToken });
  });
  return router;
}
