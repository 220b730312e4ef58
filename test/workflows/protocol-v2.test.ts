// Agent protocol v2 beside v1, on real agent containers and the real dev server: the injector speaks what each agent's
// dreamnet.protocol label offers, one swarm reaches both kinds, the v2 forward path costs one archive write and the
// reads of the agent's answer, and a v2 rollback is the agent's own restore. What each agent runs is read from it.
import { LABEL_PROTOCOL, outcomeFile, PROGRAMS_DIR } from '../../src/agent/protocol';
import type { AgentRef, DockerAdapter } from '../../src/docker';
import { SNAPSHOT_META_PATH } from '../../activities/docker-activities';
import { startAgents, TestAgents } from '../support/agents';
import { startTestInjector, TestInjector } from '../support/injector';
import { agentIds, baseline, programOf as programOfAgent } from '../support/swarm';
import { replayAndSave } from '../support/temporal';

/** Docker calls the workers made, per container and kind (listAgents is per engine, counted apart). */
const calls = new Map<string, Record<string, number>>();
let lookups = 0;

function counting(inner: DockerAdapter): DockerAdapter {
  const count = (containerId: string, kind: string) => {
    const entry = calls.get(containerId) ?? {};
    entry[kind] = (entry[kind] ?? 0) + 1;
    calls.set(containerId, entry);
  };
  return {
    ping: () => inner.ping(),
    listAgents: (s) => (lookups++, inner.listAgents(s)),
    findAgent: (id) => inner.findAgent(id),
    containerState: (id) => (count(id, 'inspect'), inner.containerState(id)),
    exec: (id, argv, o) => (count(id, 'exec'), inner.exec(id, argv, o)),
    stat: (id, p) => (count(id, 'stat'), inner.stat(id, p)),
    readFile: (id, p, max) => (count(id, 'read'), inner.readFile(id, p, max)),
    writeFile: (id, p, c, m) => (count(id, 'write'), inner.writeFile(id, p, c, m)),
    writeFiles: (id, dir, files) => (count(id, 'write'), inner.writeFiles(id, dir, files)),
  };
}

let agents: TestAgents;
let v1: AgentRef[];
let injector: TestInjector;

beforeAll(async () => {
  agents = await startAgents(6, { name: 'proto' });
  v1 = await agents.add(3, 'v1', undefined, { [LABEL_PROTOCOL]: '1' });
  injector = await startTestInjector({ signingKey: agents.signingKey, wrapWorkerDocker: counting });
}, 180_000);

afterAll(async () => {
  await injector?.stop();
  await agents?.remove();
});

const programOf = (agent: AgentRef) => programOfAgent(injector.channel, agent);
const exists = async (agent: AgentRef, file: string) => (await agents.adapter.stat(agent.containerId, file)).found;

describe('agent protocol v2 beside v1', () => {
  it('one swarm reaches v1 and v2 agents; v2 costs one archive write and the reads of its answer per agent', async () => {
    const v2 = agents.agents;
    const all = [...v2, ...v1];
    const previous = await baseline(injector, all, 'proto');
    calls.clear();
    const injectionId = `mixed-${Date.now()}`;
    const result = await injector.runSwarm({ injectionId, source: 'REDUCE_COSTS BY 10% {\n  MAX_PARALLEL: 9\n  CANARY: 0\n}', targets: { agentIds: agentIds(all) } });
    expect(result.status).toBe('succeeded');
    expect(result.counts).toMatchObject({ total: 9, injected: 9 });
    for (const agent of all) {
      expect(await programOf(agent)).toBe(injectionId);
      const row = await injector.agentResult(injectionId, agent.agentId);
      // Both protocols record what the injection replaced: v1 from its snapshot, v2 from the agent's answer.
      expect(row.previousProgramId).toBe(previous);
      expect(row.trace?.final).toMatchObject({ status: 'completed', programId: injectionId });
    }
    // v1 agents got the injector's snapshot slot; v2 agents keep what was replaced themselves and answered in a file.
    for (const agent of v1) expect(await exists(agent, SNAPSHOT_META_PATH)).toBe(true);
    for (const agent of v2) {
      expect(await exists(agent, SNAPSHOT_META_PATH)).toBe(false);
      expect(await exists(agent, `${PROGRAMS_DIR}/${outcomeFile(injectionId)}`)).toBe(true);
    }
    const perAgent = (refs: AgentRef[]) => refs.map((a) => calls.get(a.containerId) ?? {});
    for (const c of perAgent(v2)) {
      expect(c.write).toBe(1); // the sealed program and its signal, in one archive
      expect(c.stat ?? 0).toBe(0);
      expect(c.exec ?? 0).toBe(0);
    }
    const v2Calls = perAgent(v2).map((c) => Object.values(c).reduce((a, b) => a + b, 0));
    const v1Calls = perAgent(v1).map((c) => Object.values(c).reduce((a, b) => a + b, 0));
    console.log(`Docker calls per agent on the forward path (besides ${lookups} agent lookups): v2 ${JSON.stringify(v2Calls)}, v1 ${JSON.stringify(v1Calls)}`);
    expect(Math.max(...v2Calls)).toBeLessThan(Math.min(...v1Calls));
    await replayAndSave(injectionId);
  });

  it('a failure budget of 0 rolls back both kinds: v1 by its snapshot, v2 by the agent\'s own restore', async () => {
    const v2 = agents.agents.slice(0, 3);
    const mixed = [...v2, ...v1];
    const previous = await baseline(injector, mixed, 'proto-rollback');
    const failing = v2[1];
    const injectionId = `mixed-rollback-${Date.now()}`;
    const result = await injector.runSwarm({
      injectionId,
      source: `OPTIMIZE_THROUGHPUT {\n  MAX_FAILURES: 0\n  CANARY: 0\n  MAX_PARALLEL: 1\n}\nWHEN agent.agent_id == "${failing.agentId}" {\n  SIMULATE_FAILURE { MESSAGE: "forced by the test" }\n}`,
      targets: { agentIds: agentIds(mixed) },
    });
    expect(result.status).toBe('failure-budget-exceeded');
    expect(result.counts.injected).toBe(0);
    for (const agent of mixed) expect(await programOf(agent)).toBe(previous);
    const reverted = result.agents.filter((a) => a.outcome === 'reverted').map((a) => a.agentId);
    // A v2 agent that was reverted runs the previous program under the restore's reload id.
    for (const agent of v2.filter((a) => reverted.includes(a.agentId))) {
      expect((await injector.channel.current(agent.containerId))?.reloadId).toBe(`${injectionId}.rollback`);
    }
    expect(result.agents.every((a) => ['reverted', 'rolled-back', 'skipped'].includes(a.outcome))).toBe(true);
    await replayAndSave(injectionId);
  });
});
