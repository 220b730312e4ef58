// Keeps the generated OpenAPI document true to the app on the dev server: every route the Express app serves is in it, and no other (test/api/schema-agreement.test.ts holds the schemas to validation).
import { OPENAPI_DOCUMENT } from '../../src/gateway/schema/openapi';
import { TestGateway, testGateway } from './support';
import { routesOf } from '../support/express-routes';

function documentedRoutes(): string[] {
  const paths = (OPENAPI_DOCUMENT as { paths: Record<string, Record<string, unknown>> }).paths;
  return Object.entries(paths)
    .flatMap(([path, operations]) => Object.keys(operations).map((method) => `${method.toUpperCase()} ${path}`))
    .sort();
}

describe('the OpenAPI document', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await testGateway();
  });
  afterAll(async () => {
    await gw?.close();
  });

  it('lists exactly the routes the app serves', () => {
    const served = routesOf(gw.app);
    expect(served.length).toBeGreaterThanOrEqual(12);
    expect(documentedRoutes()).toEqual(served);
  });

  it('documents the error responses every authenticated route can give, and bearer security', () => {
    const doc = OPENAPI_DOCUMENT as { paths: Record<string, Record<string, { responses: Record<string, unknown>; security?: unknown[] }>>; components: { securitySchemes: Record<string, unknown> } };
    expect(doc.components.securitySchemes.bearer).toMatchObject({ type: 'http', scheme: 'bearer' });
    for (const [path, operations] of Object.entries(doc.paths)) {
      if (['/health', '/livez', '/readyz'].includes(path)) continue;
      for (const [method, operation] of Object.entries(operations)) {
        expect([`${method} ${path}`, Object.keys(operation.responses)]).toEqual([`${method} ${path}`, expect.arrayContaining(['401', '403'])]);
      }
    }
  });
});
