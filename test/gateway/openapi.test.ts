// Keeps the generated OpenAPI document true to the app on the dev server: every route the Express app serves is in it, and no other (test/api/schema-agreement.test.ts holds the schemas to validation).
import type { Express } from 'express';
import { OPENAPI_DOCUMENT } from '../../src/gateway/schema/openapi';
import { TestGateway, testGateway } from './support';

interface Layer {
  route?: { path: string; methods: Record<string, boolean> };
  handle?: { stack?: Layer[] };
}

/** `METHOD /path/{param}` for every route registered on the app, however deep in nested routers. */
function routesOf(app: Express): string[] {
  const found: string[] = [];
  const walk = (stack: Layer[]) => {
    for (const layer of stack) {
      if (layer.route) {
        const path = layer.route.path.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
        for (const [method, on] of Object.entries(layer.route.methods)) if (on && method !== '_all') found.push(`${method.toUpperCase()} ${path}`);
      } else if (layer.handle?.stack) {
        walk(layer.handle.stack);
      }
    }
  };
  walk((app as unknown as { router: { stack: Layer[] } }).router.stack);
  return [...new Set(found)].sort();
}

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
