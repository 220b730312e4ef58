// The agent protocol end to end against the real Docker engine and real reference-agent containers.
import { randomBytes } from 'node:crypto';
import { DockerAdapterError } from '../../src/docker/errors';
import { reloadAndTrace, startAgents, testDockerConnection, TestAgents } from '../support/agents';
import { AgentRef } from '../../src/docker';
import { buildProgram, ms, percent, REDUCE_15, TestDirective, withBadSignature } from '../support/programs';
import { sealTestClear, testSigningKey } from '../support/signing';

const CONCURRENT_AGENTS = 20;
let swarm: TestAgents;

beforeAll(async () => {
  swarm = await startAgents(3, { name: 'protocol' });
}, 180_000);

afterAll(async () => {
  await swarm?.remove();
});

const uniqueId = (label: string) => `${label}-${randomBytes(4).toString('hex')}`;
/** Sealed with the test workers' key for this agent and reload. */
const programFor = (agent: AgentRef, reloadId: string, directives: TestDirective[]) => buildProgram(directives, { key: swarm.signingKey, agentId: agent.agentId, reloadId });

describe('agent protocol against real containers', () => {
  test('inject a program, reload it, and read its full trace', async () => {
    const agent = swarm.agents[0];
    const reloadId = uniqueId('inj');
    const program = await programFor(agent, reloadId, [REDUCE_15, { name: 'OPTIMIZE_THROUGHPUT', amount: percent(10) }]);
    const { trace } = await reloadAndTrace(swarm.channel, agent.containerId, reloadId, program);

    expect(trace.final).toMatchObject({ final: true, status: 'completed', steps: 2, programId: reloadId });
    expect(trace.lines.map((l) => (l.final ? 'final' : `${l.step}:${l.status}`))).toEqual(['1:executing', '1:completed', '2:executing', '2:completed', 'final']);
    expect(trace.lines[0].instruction).toBe('REDUCE_COSTS BY 15% {BUDGET: $500, METRICS: latency, memory}');
    expect(trace.final?.memory?.peakBytes).toBeGreaterThan(0);
    expect(trace.final?.cpu).toEqual({ userMs: expect.any(Number), systemMs: expect.any(Number) });
    expect(await swarm.channel.current(agent.containerId)).toMatchObject({ programId: reloadId, reloadId });
    const snapshot = await swarm.channel.snapshot(agent.containerId);
    expect(snapshot.program).toEqual(program);
  });

  test('a program with a bad signature is refused and the old program stays', async () => {
    const agent = swarm.agents[1];
    const goodId = uniqueId('good');
    const good = await programFor(agent, goodId, [REDUCE_15]);
    expect((await reloadAndTrace(swarm.channel, agent.containerId, goodId, good)).trace.final).toMatchObject({ status: 'completed' });

    const badId = uniqueId('forged');
    const { trace } = await reloadAndTrace(swarm.channel, agent.containerId, badId, withBadSignature(await programFor(agent, badId, [REDUCE_15])));
    expect(trace.final).toMatchObject({ status: 'error', error: { code: 'BC_BAD_SIGNATURE' } });
    expect(trace.lines).toHaveLength(1);
    const after = await swarm.channel.snapshot(agent.containerId);
    expect(after.program).toEqual(good);
    expect(after.current).toMatchObject({ programId: goodId, reloadId: goodId });
    const staged = await swarm.adapter.readFile(agent.containerId, `/app/injected-programs/.staged-${badId}.bc`, 1024 * 1024);
    expect(staged.found).toBe(false);
  });

  test('a program signed with another key is refused with BC_UNKNOWN_KEY', async () => {
    const reloadId = uniqueId('other-key');
    const agent = swarm.agents[1];
    const program = await buildProgram([REDUCE_15], { key: testSigningKey('other'), agentId: agent.agentId, reloadId });
    const { trace } = await reloadAndTrace(swarm.channel, agent.containerId, reloadId, program);
    expect(trace.final).toMatchObject({ status: 'error', error: { code: 'BC_UNKNOWN_KEY' } });
  });

  test('an unknown directive produces an error trace, and the agent keeps serving', async () => {
    const agent = swarm.agents[2];
    const reloadId = uniqueId('unknown');
    const { trace } = await reloadAndTrace(swarm.channel, agent.containerId, reloadId, await programFor(agent, reloadId, [{ name: 'TELEPORT' }]));
    expect(trace.lines.map((l) => l.status)).toEqual(['executing', 'error', 'error']);
    expect(trace.lines[1]).toMatchObject({ step: 1, instruction: 'TELEPORT', error: expect.stringContaining('no handler') });
    expect(trace.final).toMatchObject({ status: 'error', error: { code: 'VM_UNKNOWN_DIRECTIVE' } });

    const nextId = uniqueId('after');
    expect((await reloadAndTrace(swarm.channel, agent.containerId, nextId, await programFor(agent, nextId, [REDUCE_15]))).trace.final).toMatchObject({
      status: 'completed',
    });
  });

  test('rolling back to no program (a signed clear) clears program.bc and CURRENT', async () => {
    const agent = swarm.agents[2];
    const reloadId = `${uniqueId('inj')}.rollback`;
    const clear = await sealTestClear({ key: swarm.signingKey, agentId: agent.agentId, reloadId });
    const { trace } = await reloadAndTrace(swarm.channel, agent.containerId, reloadId, clear);
    expect(trace.final).toMatchObject({ status: 'completed', steps: 0, programId: null });
    const after = await swarm.channel.snapshot(agent.containerId);
    expect(after.program).toBeNull();
    expect(after.current).toMatchObject({ programId: null, reloadId });
  });

  test('a container stopped partway through a program gives a typed, non-retryable error', async () => {
    const [extra] = await swarm.add(1, 'stop');
    const reloadId = uniqueId('stopped');
    const program = await programFor(extra, reloadId, [{ name: 'SIMULATE_WORK', amount: ms(60_000) }]);
    const snapshot = await swarm.channel.snapshot(extra.containerId);
    await swarm.channel.stage(extra.containerId, reloadId, program);
    await swarm.channel.reload(extra.containerId, reloadId, true);
    const reading = swarm.channel.readTrace(extra.containerId, reloadId, snapshot.logOffset, {
      timeoutMs: 60_000,
      onPoll: (lines) => {
        // Kill once the first step is under way: SIGKILL, so the agent cannot write a final line.
        if (lines > 0 && !killed) {
          killed = true;
          void killContainer(extra.containerId);
        }
      },
    });
    let killed = false;
    const err = await reading.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DockerAdapterError);
    expect(err).toMatchObject({ code: 'CONTAINER_NOT_RUNNING', retryable: false });
    await expect(swarm.channel.snapshot(extra.containerId)).rejects.toMatchObject({ code: 'CONTAINER_NOT_RUNNING' });
    await expect(swarm.adapter.exec(extra.containerId, ['node', '-e', '1'], { timeoutMs: 5_000 })).rejects.toMatchObject({ code: 'CONTAINER_NOT_RUNNING' });
  });

  test(`${CONCURRENT_AGENTS} agents take the same injection concurrently`, async () => {
    const added = await swarm.add(CONCURRENT_AGENTS, 'many');
    const listed = await swarm.adapter.listAgents({ agentIds: added.map((a) => a.agentId) });
    expect(listed.map((a) => a.containerId).sort()).toEqual(added.map((a) => a.containerId).sort());
    const reloadId = uniqueId('swarm');
    const directives = [REDUCE_15, { name: 'SIMULATE_WORK', amount: ms(200) }];
    const results = await Promise.all(listed.map(async (a) => reloadAndTrace(swarm.channel, a.containerId, reloadId, await programFor(a, reloadId, directives))));
    expect(results.map((r) => r.trace.final?.status)).toEqual(Array(CONCURRENT_AGENTS).fill('completed'));
    expect(results.every((r) => r.trace.lines.length === 5)).toBe(true);
  }, 180_000);
});

async function killContainer(containerId: string): Promise<void> {
  // The adapter has no kill on purpose (the injector never stops agents); the test reaches the engine directly.
  const Docker = (await import('dockerode')).default;
  const connection = testDockerConnection();
  const docker = new Docker({ socketPath: connection.dockerHost.replace(/^unix:\/\//, '') });
  await docker.getContainer(containerId).kill();
}

