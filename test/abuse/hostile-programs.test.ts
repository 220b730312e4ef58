// Hostile programs against a real agent container: each is refused or stopped, and the program the agent ran before
// stays in place (its program.bc bytes and its CURRENT), read back from the container itself.
import { randomBytes } from 'node:crypto';
import { Opcode } from '../../src/bytecode/instructions';
import { encodeBody } from '../../src/bytecode/format';
import { reloadAndTrace, startAgents, TestAgents } from '../support/agents';
import { buildProgram, REDUCE_15, TestDirective, text } from '../support/programs';
import { sealBody } from '../support/signing';

const LOG_PATH = '/app/logs/execution.log';
const STAGED_GONE_TIMEOUT_MS = 10_000;
let swarm: TestAgents;

beforeAll(async () => {
  swarm = await startAgents(1, { name: 'hostile' });
}, 180_000);

afterAll(async () => {
  await swarm?.remove();
});

const uniqueId = (label: string) => `${label}-${randomBytes(4).toString('hex')}`;
const sealed = (reloadId: string, directives: TestDirective[]) => buildProgram(directives, { key: swarm.signingKey, agentId: swarm.agents[0].agentId, reloadId });

/** Puts a known good program in place and returns its id and bytes. */
async function goodProgram(): Promise<{ id: string; bytes: Buffer }> {
  const id = uniqueId('good');
  const bytes = await sealed(id, [REDUCE_15]);
  const { trace } = await reloadAndTrace(swarm.channel, swarm.agents[0].containerId, id, bytes);
  expect(trace.final).toMatchObject({ status: 'completed', programId: id });
  return { id, bytes };
}

async function expectStillRunning(good: { id: string; bytes: Buffer }): Promise<void> {
  const snapshot = await swarm.channel.snapshot(swarm.agents[0].containerId);
  expect(snapshot.program).toEqual(good.bytes);
  expect(snapshot.current).toMatchObject({ programId: good.id, reloadId: good.id });
}

async function finalLines(reloadId: string): Promise<number> {
  const log = await swarm.adapter.readFile(swarm.agents[0].containerId, LOG_PATH, 8 * 1024 * 1024);
  if (!log.found) return 0;
  return log.content
    .toString('utf8')
    .split('\n')
    .filter((line) => line.includes(`"injectionId":"${reloadId}"`) && line.includes('"final":true')).length;
}

describe('hostile programs against a real agent', () => {
  it('refuses a truncated program file (BC_BAD_LENGTH) and keeps the old program', async () => {
    const good = await goodProgram();
    const id = uniqueId('truncated');
    const whole = await sealed(id, [REDUCE_15, REDUCE_15]);
    const { trace } = await reloadAndTrace(swarm.channel, swarm.agents[0].containerId, id, whole.subarray(0, whole.length - 7));
    expect(trace.final).toMatchObject({ status: 'error', error: { code: 'BC_BAD_LENGTH' } });
    await expectStillRunning(good);
  });

  it('ignores a replayed reload id: nothing runs again, its staged copy is dropped, the current program stays', async () => {
    const old = await goodProgram();
    const current = await goodProgram();
    const containerId = swarm.agents[0].containerId;
    // Replay the older reload: same id, same signed program, written again.
    await swarm.channel.stage(containerId, old.id, old.bytes);
    await swarm.channel.reload(containerId, old.id, true);
    const staged = `/app/injected-programs/.staged-${old.id}.bc`;
    const deadline = Date.now() + STAGED_GONE_TIMEOUT_MS;
    while ((await swarm.adapter.readFile(containerId, staged, 1024 * 1024)).found) {
      if (Date.now() > deadline) throw new Error(`the agent never looked at the replayed reload ${old.id}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(await finalLines(old.id)).toBe(1);
    await expectStillRunning(current);
  });

  it('stops a program that loops forever at its step limit and puts the old program back', async () => {
    const good = await goodProgram();
    const id = uniqueId('loop');
    const loop = await sealBody(encodeBody({ programId: id, constants: [], instructions: [{ op: Opcode.Jump, operands: [0] }] }), { key: swarm.signingKey, agentId: swarm.agents[0].agentId, reloadId: id });
    const { trace } = await reloadAndTrace(swarm.channel, swarm.agents[0].containerId, id, loop);
    expect(trace.final).toMatchObject({ status: 'error', error: { code: 'VM_STEP_LIMIT' }, revertedTo: good.id });
    await expectStillRunning(good);
  });

  it('puts the old program back when a directive of the new one fails while running', async () => {
    const good = await goodProgram();
    const id = uniqueId('failing');
    const failing = await sealed(id, [{ name: 'SIMULATE_FAILURE', params: { MESSAGE: text('hostile') } }]);
    const { trace } = await reloadAndTrace(swarm.channel, swarm.agents[0].containerId, id, failing);
    expect(trace.final).toMatchObject({ status: 'error', error: { code: 'VM_DIRECTIVE_FAILED' }, revertedTo: good.id });
    await expectStillRunning(good);
  });
});
