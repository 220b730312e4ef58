// A stand-in for the REST gateway, for the CLI's rendering tests: it starts an injection and answers each status poll
// with the next view of a scripted run. Only what the CLI reads is there; the gateway itself is tested elsewhere.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { InjectionView } from '../../src/gateway/injection-service';
import type { OutcomeCounts } from '../../src/shared/injection-types';

export interface FakeGateway {
  url: string;
  /** How many status polls were answered. */
  polls(): number;
  close(): Promise<void>;
}

export function counts(partial: Partial<OutcomeCounts> & { total: number }): OutcomeCounts {
  const c: OutcomeCounts = { waiting: 0, superseded: 0, reverting: 0, revertSuperseded: 0, pending: 0, running: 0, injected: 0, failedUnchanged: 0, rolledBack: 0, rollbackFailed: 0, notFound: 0, reverted: 0, revertFailed: 0, skipped: 0, failed: 0, ...partial };
  c.failed = c.failedUnchanged + c.rolledBack + c.rollbackFailed + c.notFound + c.superseded;
  return c;
}

export function view(injectionId: string, partial: Partial<InjectionView>): InjectionView {
  return {
    injectionId,
    workflowStatus: 'RUNNING',
    status: 'rolling-out',
    done: false,
    startedAt: '2026-12-02T08:00:00.000Z',
    closedAt: null,
    wave: 'main',
    paused: false,
    maxParallel: 4,
    failureBudget: 3,
    deadline: '2026-12-02T10:00:00.000Z',
    msUntilDeadline: 7_200_000,
    rollout: null,
    counts: null,
    agents: { offset: 0, limit: 1, total: 0, items: [] },
    ...partial,
  };
}

/** A ten-agent run from compile to a partial success: every phase the progress line has to draw. */
export function scriptedRun(injectionId: string): InjectionView[] {
  const v = (p: Partial<InjectionView>) => view(injectionId, p);
  return [
    v({ status: 'compiling', wave: 'compile', counts: null }),
    v({ status: 'resolving', wave: 'resolve', counts: counts({ total: 0 }) }),
    v({ status: 'canary', wave: 'canary', counts: counts({ total: 10, running: 1, pending: 9 }) }),
    v({ status: 'rolling-out', counts: counts({ total: 10, injected: 1, running: 4, pending: 5 }) }),
    v({ status: 'rolling-out', counts: counts({ total: 10, injected: 4, rolledBack: 1, running: 4, pending: 1 }) }),
    v({ status: 'paused', paused: true, counts: counts({ total: 10, injected: 5, rolledBack: 1, running: 0, pending: 4 }) }),
    v({ status: 'rolling-out', counts: counts({ total: 10, injected: 7, rolledBack: 2, running: 1, pending: 0 }) }),
    v({ status: 'rolling-out', counts: counts({ total: 10, injected: 7, rolledBack: 2, running: 0, pending: 0, skipped: 1 }) }),
    v({
      status: 'partially-succeeded',
      wave: 'done',
      done: true,
      workflowStatus: 'COMPLETED',
      closedAt: '2026-12-02T08:01:00.000Z',
      counts: counts({ total: 10, injected: 7, rolledBack: 2, skipped: 1 }),
    }),
  ];
}

/** Serves `POST /inject-swarm` (starts `injectionId`) and `GET /injections/:id` (the next of `views`, then the last). */
export async function startFakeGateway(injectionId: string, views: InjectionView[]): Promise<FakeGateway> {
  let served = 0;
  const server = http.createServer((req, res) => {
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    req.resume();
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://fake');
      if (req.method === 'POST' && url.pathname === '/inject-swarm') return send(202, { injectionId, statusUrl: `/injections/${injectionId}`, created: true });
      if (req.method === 'GET' && url.pathname === `/injections/${injectionId}`) return send(200, views[Math.min(served++, views.length - 1)]);
      send(404, { error: { code: 'NOT_FOUND', message: `no route ${req.method} ${url.pathname}` } });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    polls: () => served,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
