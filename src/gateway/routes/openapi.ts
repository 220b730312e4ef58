// GET /openapi.json: the hand-written OpenAPI 3.1 document (src/gateway/openapi.ts).
import { RequestHandler, Router } from 'express';
import { OPENAPI_DOCUMENT } from '../openapi';

export function openapiRoutes(deps: { read: RequestHandler[] }): Router {
  const router = Router();
  router.get('/openapi.json', ...deps.read, (_req, res) => {
    res.json(OPENAPI_DOCUMENT);
  });
  return router;
}
