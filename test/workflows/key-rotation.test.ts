// Rotating the workers' signing key on a running swarm, through real injections: agents that trust both keys take
// programs sealed with either, a rollback after the switch restores a program the old key signed (re-sealed with the
// new one), and agents with the old key retired refuse it while injections with the new key still succeed.
import type { AgentRef } from '../../src/docker';
import { startAgents, TestAgents } from '../support/agents';
import { startTestInjector, TestInjector } from '../support/injector';
import { testSigningKey } from '../support/signing';

const key1 = testSigningKey('rot1');
const key2 = testSigningKey('rot2');
let agents: TestAgents;
let injector: TestInjector | undefined;

beforeAll(async () => {
  agents = await startAgents(3, { name: 'rotation', signingKey: key1, trusted: [key1, key2] });
}, 180_000);

afterAll(async () => {
  await injector?.stop();
  await agents?.remove();
});

const ids = (refs: AgentRef[]) => refs.map((a) => a.agentId);
const source = (extra = '') => `OPTIMIZE_THROUGHPUT {\n  MAX_PARALLEL: 5\n  CANARY: 0\n  MAX_FAILURES: 0\n}${extra}`;

async function keyIdOf(agent: AgentRef): Promise<string | null> {
  const snapshot = await agents.channel.snapshot(agent.containerId);
  if (!snapshot.program) return null;
  // The envelope's key id: u8 length at byte 16, then the id (docs/bytecode.md).
  const length = snapshot.program.readUInt8(16);
  return snapshot.program.toString('utf8', 17, 17 + length);
}

describe('key rotation on a running swarm', () => {
  it('injections succeed throughout; rollbacks restore across the switch; a retired key is refused', async () => {
    injector = await startTestInjector({ signingKey: key1 });
    const underKey1 = `rot-k1-${Date.now()}`;
    expect((await injector.runSwarm({ injectionId: underKey1, source: source(), targets: { agentIds: ids(agents.agents) } })).status).toBe('succeeded');
    for (const agent of agents.agents) expect(await keyIdOf(agent)).toBe(key1.keyId);
    await injector.stop();

    // The workers switch to key 2 and still trust key 1 for what they restore.
    injector = await startTestInjector({ signingKey: key2, alsoTrusted: [key1] });
    const failing = `rot-fail-${Date.now()}`;
    const failed = await injector.runSwarm({
      injectionId: failing,
      // Agent 0 fails late, so the other two are injected (with key 2) before the budget stops the rollout.
      source: source(`\nWHEN agent.agent_id == "${agents.agents[0].agentId}" {\n  SIMULATE_WORK BY 3s\n  SIMULATE_FAILURE { MESSAGE: "forced by the test" }\n}`),
      targets: { agentIds: ids(agents.agents) },
    });
    expect(failed.status).toBe('failure-budget-exceeded');
    for (const agent of agents.agents) expect((await agents.channel.current(agent.containerId))?.programId).toBe(underKey1);
    // The failing agent put key 1's program back itself (the compare-and-swap rollback finds nothing to undo). The two
    // the injector rolled back (v2 agents: a restore signed with key 2) run key 1's program as it was, signed with
    // key 1, which they still trust; a v1 rollback would have re-sealed it with key 2.
    expect(await agents.channel.current(agents.agents[0].containerId)).toMatchObject({ programId: underKey1, reloadId: underKey1 });
    for (const agent of agents.agents.slice(1)) {
      expect(await agents.channel.current(agent.containerId)).toMatchObject({ programId: underKey1, reloadId: `${failing}.rollback` });
      expect(await keyIdOf(agent)).toBe(key1.keyId);
    }
    const underKey2 = `rot-k2-${Date.now()}`;
    expect((await injector.runSwarm({ injectionId: underKey2, source: source(), targets: { agentIds: ids(agents.agents) } })).status).toBe('succeeded');

    // Key 1 retired: new agents trust key 2 only. Key 2's injections succeed; key 1's are refused.
    const retired = await agents.add(2, 'k2only', [key2]);
    const onRetired = `rot-retired-${Date.now()}`;
    expect((await injector.runSwarm({ injectionId: onRetired, source: source(), targets: { agentIds: ids(retired) } })).status).toBe('succeeded');
    await injector.stop();
    injector = await startTestInjector({ signingKey: key1 });
    const oldKey = `rot-old-${Date.now()}`;
    const refused = await injector.runSwarm({ injectionId: oldKey, source: source(), targets: { agentIds: ids(retired) } });
    expect(refused.status).toBe('failure-budget-exceeded');
    const result = await injector.agentResult(oldKey, retired[0].agentId);
    expect(result.error).toMatchObject({ code: 'PROGRAM_REFUSED', message: expect.stringContaining('BC_UNKNOWN_KEY') });
    for (const agent of retired) expect((await agents.channel.current(agent.containerId))?.programId).toBe(onRetired);
  }, 300_000);
});
