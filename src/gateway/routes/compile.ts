// POST /compile: a dry run — bytecode, disassembly, rollout settings, and the agents the program would hit. Starts nothing.
import { createHash } from 'node:crypto';
import { Router } from 'express';
import { disassemble } from '../../bytecode/disassemble';
import type { AgentSelector, DockerAdapter } from '../../docker';
import { MAX_TARGET_AGENTS } from '../../shared/injection-types';
import { DRY_RUN_PROGRAM_ID } from '../../signing/seal';
import { compileOrReject, diagnosticView } from '../program-check';
import { agentListField, Checker, contextField, groupField, instructionField, knownQuery, objectBody } from '../validation';

/** Program id written into dry-run bytecode (a real injection writes its injection id); nothing ever seals it. */
export { DRY_RUN_PROGRAM_ID };

export function compileRoutes(deps: { docker: Pick<DockerAdapter, 'listAgents'> }): Router {
  const router = Router();
  router.post('/compile', async (req, res) => {
    const check = new Checker();
    knownQuery(req.query, [], check);
    const body = objectBody(req.body, ['instruction', 'context', 'agents', 'group'], check);
    const source = instructionField(body.instruction, check);
    const context = contextField(body.context, check);
    const agents = agentListField(body.agents, 'agents', check);
    const group = groupField(body.group, check);
    if (body.agents !== undefined && body.group !== undefined) check.add('group', 'give agents or group, not both');
    check.done();
    const result = compileOrReject(source, context, { programId: DRY_RUN_PROGRAM_ID, dryRun: true });
    const selector: AgentSelector | null = agents ? { agentIds: agents } : group ? { group } : result.rollout.target ? { group: result.rollout.target } : null;
    res.json({
      ok: true,
      programId: DRY_RUN_PROGRAM_ID,
      bytes: result.bytecode.length,
      sha256: createHash('sha256').update(result.bytecode).digest('hex'),
      bytecode: result.bytecode.toString('base64'),
      disassembly: disassemble(result.bytecode),
      rollout: result.rollout,
      directives: result.directives,
      diagnostics: result.diagnostics.map(diagnosticView),
      targets: await targetsOf(deps.docker, selector),
    });
  });
  return router;
}

/** Who the program would reach now; a Docker engine that does not answer is reported, not fatal, in a dry run. */
async function targetsOf(docker: Pick<DockerAdapter, 'listAgents'>, selector: AgentSelector | null) {
  if (!selector) return { selector: null, agents: [], missing: [], error: 'no targets: give agents or group, or set TARGET in the program' };
  try {
    const found = (await docker.listAgents(selector)).slice(0, MAX_TARGET_AGENTS);
    const foundIds = new Set(found.map((a) => a.agentId));
    return {
      selector,
      agents: found.map((a) => ({ agentId: a.agentId, containerName: a.containerName, group: a.group, running: a.running })),
      missing: (selector.agentIds ?? []).filter((id) => !foundIds.has(id)),
    };
  } catch (err) {
    return { selector, agents: [], missing: [], error: `the Docker engine could not list agents: ${err instanceof Error ? err.message : String(err)}` };
  }
}
