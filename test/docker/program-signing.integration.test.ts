// Zero trust on real agent containers: only programs the workers' key sealed for this agent, this reload, in time and
// with a rising sequence are run; everything else is refused with its code on the final trace line (docs/security.md).
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { stagedProgramFile } from '../../src/agent/protocol';
import { encodeBody } from '../../src/bytecode/format';
import { compile } from '../../src/compiler';
import type { AgentRef } from '../../src/docker';
import { SigningKeyPair } from '../../src/signing/keys';
import { AGENT_READY_TIMEOUT_MS, reloadAndTrace, startAgents, TestAgents } from '../support/agents';
import { buildBody, buildProgram, programBody, REDUCE_15, TestDirective, withBadSignature } from '../support/programs';
import { nextTestSequence, sealBody, sealTestClear, TestSeal, testSigningKey } from '../support/signing';

const POLL_MS = 50;
let swarm: TestAgents;

beforeAll(async () => {
  swarm = await startAgents(4, { name: 'signing' });
}, 180_000);

afterAll(async () => {
  await swarm?.remove();
});

const uniqueId = (label: string) => `${label}-${randomBytes(4).toString('hex')}`;
const sealFor = (agent: AgentRef, reloadId: string, directives: TestDirective[] = [REDUCE_15], seal: Partial<TestSeal> = {}) =>
  buildProgram(directives, { key: swarm.signingKey, agentId: agent.agentId, reloadId, ...seal });

async function inject(agent: AgentRef, reloadId: string, program: Buffer | null) {
  return (await reloadAndTrace(swarm.channel, agent.containerId, reloadId, program)).trace;
}

/** What a bytecode v1 (HMAC-SHA256) writer produced: an 84-byte header with a shared-key signature, then the body. */
function v1Program(programId: string, hmacKey: Buffer): Buffer {
  const body = encodeBody(programBody(programId, [REDUCE_15]));
  const header = Buffer.alloc(84);
  header.write('OCBC', 0, 'ascii');
  header.writeUInt16BE(1, 4);
  header.writeUInt32BE(body.length, 8);
  createHash('sha256').update(hmacKey).digest().copy(header, 12, 0, 8);
  createHash('sha256').update(body).digest().copy(header, 20);
  createHmac('sha256', hmacKey).update(header.subarray(0, 52)).update(body).digest().copy(header, 52);
  return Buffer.concat([header, body]);
}

async function waitUntil(what: string, condition: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + AGENT_READY_TIMEOUT_MS;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${AGENT_READY_TIMEOUT_MS} ms waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

describe('agents accept only what the workers sealed for them', () => {
  test('a program minted with anything but the workers\' private key is refused, and the running program stays', async () => {
    const agent = swarm.agents[0];
    const goodId = uniqueId('good');
    expect(await inject(agent, goodId, await sealFor(agent, goodId))).toMatchObject({ final: { status: 'completed' } });

    const otherKeyId = uniqueId('other-key');
    const otherKey = await sealFor(agent, otherKeyId, [REDUCE_15], { key: testSigningKey('attacker') });
    expect((await inject(agent, otherKeyId, otherKey)).final).toMatchObject({ status: 'error', programId: null, error: { code: 'BC_UNKNOWN_KEY' } });

    // The workers' key id with another key's signature behind it.
    const impostorId = uniqueId('impostor');
    const impostor: SigningKeyPair = { ...testSigningKey('attacker'), keyId: swarm.signingKey.keyId };
    expect((await inject(agent, impostorId, await sealFor(agent, impostorId, [REDUCE_15], { key: impostor }))).final).toMatchObject({ error: { code: 'BC_BAD_SIGNATURE' } });

    const forgedId = uniqueId('forged');
    expect((await inject(agent, forgedId, withBadSignature(await sealFor(agent, forgedId)))).final).toMatchObject({ error: { code: 'BC_BAD_SIGNATURE' } });

    // The old shared-key format: a v2 agent knows no HMAC key and refuses the version.
    const v1Id = uniqueId('v1');
    expect((await inject(agent, v1Id, v1Program(v1Id, randomBytes(32)))).final).toMatchObject({ error: { code: 'BC_BAD_VERSION' } });

    expect(await swarm.channel.current(agent.containerId)).toMatchObject({ programId: goodId, reloadId: goodId });
  });

  test('a program sealed for agent X is refused by agent Y', async () => {
    const [x, y] = [swarm.agents[0], swarm.agents[1]];
    const reloadId = uniqueId('for-x');
    const forX = await sealFor(x, reloadId);
    expect((await inject(y, reloadId, forX)).final).toMatchObject({ status: 'error', error: { code: 'ENVELOPE_WRONG_TARGET', message: expect.stringContaining(`agent ${x.agentId}`) } });
    expect((await swarm.channel.current(y.containerId))?.reloadId).not.toBe(reloadId);
  });

  test('an expired program is refused', async () => {
    const agent = swarm.agents[1];
    const reloadId = uniqueId('expired');
    const expired = await sealFor(agent, reloadId, [REDUCE_15], { notAfterMs: Date.now() - 1_000 });
    expect((await inject(agent, reloadId, expired)).final).toMatchObject({ status: 'error', error: { code: 'ENVELOPE_EXPIRED' } });
  });

  test('a replayed old program is refused: under a new reload id it does not match, under its own it is ignored', async () => {
    const agent = swarm.agents[2];
    const oldId = uniqueId('old');
    const old = await sealFor(agent, oldId);
    expect((await inject(agent, oldId, old)).final).toMatchObject({ status: 'completed' });
    const newId = uniqueId('new');
    expect((await inject(agent, newId, await sealFor(agent, newId))).final).toMatchObject({ status: 'completed' });

    const replayId = uniqueId('replay');
    expect((await inject(agent, replayId, old)).final).toMatchObject({ status: 'error', error: { code: 'ENVELOPE_RELOAD_MISMATCH' } });

    // The old bytes and signal again, as they were: the agent has acted on that id, deletes the staged copy, runs nothing.
    await swarm.channel.stage(agent.containerId, oldId, old);
    await swarm.channel.reload(agent.containerId, oldId, true);
    const stagedPath = `/app/injected-programs/${stagedProgramFile(oldId)}`;
    await waitUntil('the agent dropped the replayed staged file', async () => !(await swarm.adapter.stat(agent.containerId, stagedPath)).found);
    const all = await swarm.channel.readTrace(agent.containerId, oldId, 0, { timeoutMs: 1 });
    expect(all.lines.filter((l) => l.final)).toHaveLength(1);
    expect(await swarm.channel.current(agent.containerId)).toMatchObject({ programId: newId, reloadId: newId });
  });

  test('an older sequence is refused (ENVELOPE_STALE_SEQUENCE), the same one again too (ENVELOPE_REPLAYED)', async () => {
    const agent = swarm.agents[3];
    const earlierId = uniqueId('earlier');
    const earlier = await sealFor(agent, earlierId, [REDUCE_15], { sequence: nextTestSequence() });
    const laterId = uniqueId('later');
    const laterSequence = nextTestSequence();
    expect((await inject(agent, laterId, await sealFor(agent, laterId, [REDUCE_15], { sequence: laterSequence }))).final).toMatchObject({ status: 'completed' });
    expect(await swarm.channel.current(agent.containerId)).toMatchObject({ sequence: laterSequence });

    expect((await inject(agent, earlierId, earlier)).final).toMatchObject({ status: 'error', error: { code: 'ENVELOPE_STALE_SEQUENCE' } });
    const sameId = uniqueId('same');
    expect((await inject(agent, sameId, await sealFor(agent, sameId, [REDUCE_15], { sequence: laterSequence }))).final).toMatchObject({ error: { code: 'ENVELOPE_REPLAYED' } });
  });

  test('a dry run\'s output, and any unsigned compiler output, is refused with BC_UNSIGNED', async () => {
    const agent = swarm.agents[3];
    const dryId = uniqueId('dry');
    const dry = compile('REDUCE_COSTS BY 15%', {}, { programId: 'dry-run' }).bytecode as Buffer;
    expect((await inject(agent, dryId, dry)).final).toMatchObject({ status: 'error', error: { code: 'BC_UNSIGNED', message: expect.stringContaining('dry run') } });
    const unsignedId = uniqueId('unsigned');
    const unsigned = compile('REDUCE_COSTS BY 15%', {}, { programId: unsignedId }).bytecode as Buffer;
    expect((await inject(agent, unsignedId, unsigned)).final).toMatchObject({ status: 'error', error: { code: 'BC_UNSIGNED' } });
  });

  test('an unsigned clear ("program": null) is refused; a signed clear clears', async () => {
    const agent = swarm.agents[1];
    const runningId = uniqueId('running');
    expect((await inject(agent, runningId, await sealFor(agent, runningId))).final).toMatchObject({ status: 'completed' });
    const unsignedClearId = `${runningId}.rollback`;
    expect((await inject(agent, unsignedClearId, null)).final).toMatchObject({ status: 'error', error: { code: 'BC_UNSIGNED' } });
    expect((await swarm.channel.snapshot(agent.containerId)).current).toMatchObject({ programId: runningId });

    const clearId = uniqueId('clear');
    const clear = await sealTestClear({ key: swarm.signingKey, agentId: agent.agentId, reloadId: clearId });
    expect((await inject(agent, clearId, clear)).final).toMatchObject({ status: 'completed', programId: null });
    const after = await swarm.channel.snapshot(agent.containerId);
    expect(after.program).toBeNull();
    expect(after.current).toMatchObject({ programId: null, reloadId: clearId });
  });
});

describe('key rotation', () => {
  test('agents trusting keys 1 and 2 accept programs signed by either; with key 1 retired, only key 2\'s', async () => {
    const key1 = swarm.signingKey;
    const key2 = testSigningKey('key2');
    const [both] = await swarm.add(1, 'both-keys', [key1, key2]);
    const [retired] = await swarm.add(1, 'key2-only', [key2]);
    const body = (reloadId: string) => buildBody(reloadId, [REDUCE_15]);
    const sealAs = (key: SigningKeyPair, agent: AgentRef, reloadId: string) => sealBody(body(reloadId), { key, agentId: agent.agentId, reloadId });

    for (const key of [key1, key2]) {
      const reloadId = uniqueId(`both-${key === key1 ? 'k1' : 'k2'}`);
      expect((await inject(both, reloadId, await sealAs(key, both, reloadId))).final).toMatchObject({ status: 'completed' });
    }
    const oldKeyId = uniqueId('retired-k1');
    expect((await inject(retired, oldKeyId, await sealAs(key1, retired, oldKeyId))).final).toMatchObject({ status: 'error', error: { code: 'BC_UNKNOWN_KEY' } });
    const newKeyId = uniqueId('retired-k2');
    expect((await inject(retired, newKeyId, await sealAs(key2, retired, newKeyId))).final).toMatchObject({ status: 'completed' });
  }, 120_000);

  test('no agent holds a private key: its environment carries public keys only', async () => {
    const { stdout } = await swarm.adapter.exec(swarm.agents[0].containerId, ['node', '-e', 'process.stdout.write(JSON.stringify(Object.keys(process.env).filter((k) => k.startsWith("OPENCLAW_")).sort()))'], { timeoutMs: 10_000 });
    const names = JSON.parse(stdout) as string[];
    expect(names).toContain('OPENCLAW_TRUSTED_KEYS');
    expect(names).not.toContain('OPENCLAW_SIGNING_KEY');
  });
});
