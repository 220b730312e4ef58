// POST /compile: a dry run — bytecode, disassembly, rollout settings, and the agents the program would hit. Starts nothing.
// The bytecode is unsigned (only workers seal programs, per agent): no agent runs it.
import { createHash } from 'node:crypto';
import { RequestHandler, Router } from 'express';
import { MAX_TARGET_AGENTS } from '../../shared/injection-types';
import { DRY_RUN_PROGRAM_ID } from '../../signing/seal';
import { diagnosticView, ProgramChecker } from '../program-check';
import type { TargetResolver, TargetSelector } from '../target-resolver';
import { ROUTES } from '../schema/routes';
import { handle } from '../schema/validate';

/** Program id written into dry-run bytecode (a real injection writes its injection id); nothing ever seals it. */
export { DRY_RUN_PROGRAM_ID };

export function compileRoutes(deps: { programs: ProgramChecker; targets: TargetResolver; guards: RequestHandler[] }): Router {
  const router = Router();
  handle(router, ROUTES.compile, deps.guards, async ({ body }, _req, res) => {
    const { agents, group } = body;
    const result = deps.programs.compileOrReject(body.instruction, body.context ?? {}, { programId: DRY_RUN_PROGRAM_ID, dryRun: true });
    const selector: TargetSelector | null = agents ? { agentIds: agents } : group ? { group } : result.rollout.target ? { group: result.rollout.target } : null;
    res.json({
      ok: true,
      dryRun: true,
      programId: DRY_RUN_PROGRAM_ID,
      signature: 'none: an unsigned dry run, no agent accepts this bytecode',
      bytes: result.bytecode.length,
      sha256: createHash('sha256').update(result.bytecode).digest('hex'),
      bytecode: result.bytecode.toString('base64'),
      disassembly: deps.programs.disassemble(result.bytecode),
      rollout: result.rollout,
      directives: result.directives,
      diagnostics: result.diagnostics.map(diagnosticView),
      targets: await targetsOf(deps.targets, selector),
    });
  });
  return router;
}

/** Who the program would reach now, per the workers; a host whose worker failed the lookup is named in `error`. */
async function targetsOf(targets: TargetResolver, selector: TargetSelector | null) {
  if (!selector) return { selector: null, agents: [], missing: [], error: 'no targets: give agents or group, or set TARGET in the program' };
  const hosts = await targets.resolve(selector);
  const agents = hosts.flatMap((h) => ('agentIds' in h ? h.agentIds.map((agentId) => ({ agentId, host: h.host })) : [])).slice(0, MAX_TARGET_AGENTS);
  const found = new Set(agents.map((a) => a.agentId));
  const failed = hosts.flatMap((h) => ('error' in h ? [`${h.host}: ${h.error}`] : []));
  return {
    selector,
    agents,
    missing: 'agentIds' in selector ? selector.agentIds.filter((id) => !found.has(id)) : [],
    ...(failed.length > 0 ? { error: `the worker of a Docker host could not list agents (${failed.join('; ')})` } : {}),
  };
}
