// POST /inject and POST /inject-swarm: validate, compile-check, start the swarm workflow (idempotently), answer 202 or wait.
import { createHash, randomUUID } from 'node:crypto';
import { RequestHandler, Response, Router } from 'express';
import type { OnBusy, Priority, TargetSelector } from '../../shared/injection-types';
import { requireGroup } from '../auth';
import { ApiError } from '../errors';
import { InjectionService, InjectionView, requestFingerprint, WaitSlot } from '../injection-service';
import type { ProgramChecker } from '../program-check';
import { principalOf, requestIdOf } from '../request-locals';
import { MAX_WAIT_SECONDS, ROUTES } from '../schema/routes';
import { handle } from '../schema/validate';

export { MAX_WAIT_SECONDS };
/** Per-agent results in a waited swarm answer; the rest are paged through GET /injections/:id. */
export const MAX_WAIT_RESULTS = 500;
const IDEMPOTENT_ID_HEX_CHARS = 40;

export interface StartRouteDeps {
  injections: InjectionService;
  programs: ProgramChecker;
  /** What runs before each start route's own handler, after its scope check: the rate limits. */
  guards: RequestHandler[];
  /** Upper bound for `?wait=true`, in seconds; MAX_WAIT_SECONDS unless a test shortens it. */
  maxWaitSeconds?: number;
}

interface StartPlan {
  source: string;
  context: Record<string, unknown>;
  targets: TargetSelector;
  priority: Priority;
  /** When another injection holds some of the agents: wait for them (default) or refuse at once with 409 AGENT_BUSY. */
  onBusy: OnBusy;
}

export function statusUrl(injectionId: string): string {
  return `/injections/${encodeURIComponent(injectionId)}`;
}

/** The injection id: derived from the Idempotency-Key (checked by the route's schema) and the caller's identity, so a retry lands on the same injection. */
function injectionIdFor(res: Response, key: string | undefined): string {
  if (key === undefined) return `inj-${randomUUID()}`;
  const digest = createHash('sha256').update(`${principalOf(res)}\n${key}`).digest('hex');
  return `idem-${digest.slice(0, IDEMPOTENT_ID_HEX_CHARS)}`;
}

export function startRoutes(deps: StartRouteDeps): Router {
  const router = Router();
  const maxWaitSeconds = deps.maxWaitSeconds ?? MAX_WAIT_SECONDS;

  async function begin(res: Response, idempotencyKey: string | undefined, plan: StartPlan, route: string) {
    const injectionId = injectionIdFor(res, idempotencyKey);
    const { rollout } = deps.programs.compileOrReject(plan.source, plan.context, { programId: injectionId });
    if (plan.targets === null && rollout.target === null) {
      throw new ApiError(400, 'NO_TARGETS', 'no targets: give agents or group, or set TARGET in the program', { problems: [{ field: 'agents', problem: 'no targets' }] });
    }
    // One group, when the injection reaches one: a group-limited token may start only those (explicit agent ids are
    // refused to it: checking their labels here would cost a worker round trip and still race the workflow's own lookup).
    const targetGroup = plan.targets === null ? rollout.target : 'group' in plan.targets ? plan.targets.group : null;
    requireGroup(res, 'inject', targetGroup, targetGroup === null ? 'a request for explicit agent ids' : 'the injection\'s target');
    const started = await deps.injections.start({
      injectionId,
      ...plan,
      requestedBy: principalOf(res),
      requestId: requestIdOf(res),
      targetGroup,
      fingerprint: requestFingerprint([route, plan.source, plan.context, plan.targets, plan.priority, plan.onBusy]),
    });
    res.location(statusUrl(injectionId));
    if (plan.onBusy === 'refuse') {
      const busy = await deps.injections.busyAgents(injectionId);
      if (busy !== null) {
        const holders = [...new Set(busy.map((b) => b.holder))];
        throw new ApiError(409, 'AGENT_BUSY', `${busy.length} of the agents are held by another injection (${holders.slice(0, 5).join(', ')}); nothing was changed`, { injectionId, busy });
      }
    }
    return started;
  }

  async function waited(slot: WaitSlot | null, injectionId: string, seconds: number | null): Promise<InjectionView | null> {
    if (slot === null || seconds === null) return null;
    const closed = await slot.untilClosed(injectionId, seconds * 1000);
    return closed ? deps.injections.view(injectionId, { offset: 0, limit: MAX_WAIT_RESULTS }) : null;
  }

  /** Runs a start with its wait slot (reserved before anything starts, so a full house refuses instead of half-waiting). */
  async function withWaitSlot<T>(wait: number | null, fn: (slot: WaitSlot | null) => Promise<T>): Promise<T> {
    const slot = wait === null ? null : deps.injections.reserveWait();
    try {
      return await fn(slot);
    } finally {
      slot?.release();
    }
  }

  /** Seconds to wait for the end with `?wait=true` (at most maxWaitSeconds), null without it. */
  const waitSeconds = (query: { wait?: 'true' | 'false'; timeoutSeconds: number }): number | null =>
    query.wait === 'true' ? Math.min(query.timeoutSeconds, maxWaitSeconds) : null;

  handle(router, ROUTES.inject, deps.guards, async ({ query, headers, body }, _req, res) => {
    const wait = waitSeconds(query);
    const agentId = body.agentId;
    const plan: StartPlan = { source: body.instruction, context: body.context ?? {}, targets: { agentIds: [agentId] }, priority: body.priority, onBusy: body.onBusy };
    await withWaitSlot(wait, async (slot) => {
      const started = await begin(res, headers['Idempotency-Key'], plan, 'inject');
      const view = await waited(slot, started.injectionId, wait);
      if (!view) {
        res.status(202).json({ injectionId: started.injectionId, statusUrl: statusUrl(started.injectionId), created: started.created, agentId });
        return;
      }
      const result = await deps.injections.agentResult(started.injectionId, agentId);
      const entry = view.agents.items[0];
      res.status(200).json({
        injectionId: started.injectionId,
        statusUrl: statusUrl(started.injectionId),
        created: started.created,
        agentId,
        success: view.status === 'succeeded' && result?.outcome === 'injected',
        status: view.status,
        outcome: result?.outcome ?? entry?.outcome ?? null,
        error: result?.error?.message ?? entry?.error ?? view.error?.message ?? null,
        executionTime: result ? Date.parse(result.finishedAt) - Date.parse(result.startedAt) : null,
        timings: result?.timings ?? [],
        trace: result?.trace ?? null,
      });
    });
  });

  handle(router, ROUTES.injectSwarm, deps.guards, async ({ query, headers, body }, _req, res) => {
    const wait = waitSeconds(query);
    const { agents, group } = body;
    const plan: StartPlan = {
      source: body.instruction,
      context: body.context ?? {},
      targets: agents ? { agentIds: agents } : group ? { group } : null,
      priority: body.priority,
      onBusy: body.onBusy,
    };
    await withWaitSlot(wait, async (slot) => {
      const started = await begin(res, headers['Idempotency-Key'], plan, 'inject-swarm');
      const view = await waited(slot, started.injectionId, wait);
      if (!view) {
        res.status(202).json({ injectionId: started.injectionId, statusUrl: statusUrl(started.injectionId), created: started.created });
        return;
      }
      const successful = view.counts?.injected ?? 0;
      const failed = view.counts?.failed ?? 0;
      res.status(200).json({
        injectionId: started.injectionId,
        statusUrl: statusUrl(started.injectionId),
        created: started.created,
        status: view.status,
        instruction: plan.source,
        totalAgents: view.counts?.total ?? 0,
        successful,
        failed,
        counts: view.counts,
        results: view.agents.items.map((a) => ({ agentId: a.agentId, success: a.outcome === 'injected', outcome: a.outcome, error: a.error ?? null })),
        resultsTruncated: view.agents.total > view.agents.items.length,
        summary: `${successful} injected, ${failed} failed`,
        ...(view.error ? { error: view.error } : {}),
      });
    });
  });

  return router;
}
