// GET /openapi.json: the document generated from the route entries (src/gateway/schema/openapi.ts).
import { RequestHandler, Router } from 'express';
import { OPENAPI_DOCUMENT } from '../schema/openapi';
import { ROUTES } from '../schema/routes';
import { handle } from '../schema/validate';

export function openapiRoutes(deps: { read: RequestHandler[] }): Router {
  const router = Router();
  handle(router, ROUTES.openapi, deps.read, (_input, _req, res) => {
    res.json(OPENAPI_DOCUMENT);
  });
  return router;
}
