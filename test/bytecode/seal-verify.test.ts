// Sealing and the agent's checks, in-process: every refusal code, dry runs, re-sealing for a rollback, keys and sequences.
import { BytecodeError, readContainer } from '../../src/bytecode/format';
import { compile } from '../../src/compiler';
import { SigningError } from '../../src/signing/errors';
import { formatSigningKey, formatTrustedKeys, parseSigningKey, parseTrustedKeys } from '../../src/signing/keys';
import { sealClear, sealCompiled, SealEnvelope, sealProgram, resealVerified } from '../../src/signing/seal';
import { sealForInstall, sealForRollback } from '../../src/signing/sealing';
import { sequenceFor } from '../../src/signing/sequence';
import { createLocalSigner, ProgramSigner } from '../../src/signing/signer';
import { AgentExpectations, verifyForAgent } from '../../src/signing/verify';
import { buildBody, buildUnsigned, REDUCE_15 } from '../support/programs';
import { testSealing, testSigningKey, trustedKeysOf } from '../support/signing';

const key1 = testSigningKey('k1');
const key2 = testSigningKey('k2');
const NOW = Date.UTC(2027, 5, 1);
const envelope = (overrides: Partial<SealEnvelope> = {}): SealEnvelope => ({
  reloadId: 'inj-1',
  target: { kind: 'agent', name: 'agent-x' },
  notAfterMs: NOW + 60_000,
  sequence: 100,
  ...overrides,
});
const agentX = (overrides: Partial<AgentExpectations> = {}): AgentExpectations => ({
  trustedKeys: trustedKeysOf(key1),
  agentId: 'agent-x',
  group: 'web',
  reloadId: 'inj-1',
  nowMs: NOW,
  lastSequence: 99,
  ...overrides,
});

function refusal(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (err instanceof BytecodeError) return err.code;
    throw err;
  }
  return 'ACCEPTED';
}

async function signingFailure(fn: () => Promise<unknown>): Promise<string> {
  try {
    await fn();
  } catch (err) {
    if (err instanceof SigningError) return err.code;
    throw err;
  }
  return 'SEALED';
}

const body = buildBody('inj-1', [REDUCE_15]);
const seal = (overrides: Partial<SealEnvelope> = {}, signer: ProgramSigner = createLocalSigner(key1)) => sealProgram(body, envelope(overrides), signer);

describe('an agent accepts a sealed program only when everything it binds holds', () => {
  it('accepts the program sealed for it, this reload, unexpired, with a higher sequence', async () => {
    const program = verifyForAgent(await seal(), agentX());
    expect(program.programId).toBe('inj-1');
    expect(program.container.envelope).toMatchObject({ keyId: key1.keyId, sequence: 100, reloadId: 'inj-1' });
  });

  it('refuses each broken binding with its own code', async () => {
    const good = await seal();
    expect(refusal(() => verifyForAgent(good, agentX({ trustedKeys: trustedKeysOf(key2) })))).toBe('BC_UNKNOWN_KEY');
    expect(refusal(() => verifyForAgent(good, agentX({ agentId: 'agent-y' })))).toBe('ENVELOPE_WRONG_TARGET');
    expect(refusal(() => verifyForAgent(good, agentX({ reloadId: 'inj-2' })))).toBe('ENVELOPE_RELOAD_MISMATCH');
    expect(refusal(() => verifyForAgent(good, agentX({ nowMs: NOW + 60_001 })))).toBe('ENVELOPE_EXPIRED');
    expect(refusal(() => verifyForAgent(good, agentX({ lastSequence: 100 })))).toBe('ENVELOPE_REPLAYED');
    expect(refusal(() => verifyForAgent(good, agentX({ lastSequence: 101 })))).toBe('ENVELOPE_STALE_SEQUENCE');
    expect(refusal(() => verifyForAgent(good, agentX({ lastSequence: null })))).toBe('ACCEPTED');
  });

  it('a key id the agent trusts, with another key behind it, is a bad signature', async () => {
    const impostor: ProgramSigner = { keyId: key1.keyId, sign: createLocalSigner(key2).sign };
    expect(refusal(() => verifyForAgent(Buffer.alloc(0), agentX()))).toBe('BC_TOO_SHORT');
    const forged = await seal({}, impostor);
    expect(refusal(() => verifyForAgent(forged, agentX()))).toBe('BC_BAD_SIGNATURE');
  });

  it('a program sealed for a group is accepted by its members only', async () => {
    const forGroup = await seal({ target: { kind: 'group', name: 'web' } });
    expect(refusal(() => verifyForAgent(forGroup, agentX()))).toBe('ACCEPTED');
    expect(refusal(() => verifyForAgent(forGroup, agentX({ group: 'batch' })))).toBe('ENVELOPE_WRONG_TARGET');
    expect(refusal(() => verifyForAgent(forGroup, agentX({ group: null })))).toBe('ENVELOPE_WRONG_TARGET');
  });

  it('accepts a signed clear (no body) and refuses the unsigned compiler output', async () => {
    const clear = verifyForAgent(await sealClear(envelope(), createLocalSigner(key1)), agentX());
    expect(clear.container.kind).toBe('clear');
    expect(clear.programId).toBeNull();
    expect(refusal(() => verifyForAgent(buildUnsigned('inj-1', [REDUCE_15]), agentX()))).toBe('BC_UNSIGNED');
  });

  it('works with an asynchronous signer, as a KMS client would be', async () => {
    const remote: ProgramSigner = { keyId: key1.keyId, sign: async (message) => createLocalSigner(key1).sign(message) };
    expect(verifyForAgent(await seal({}, remote), agentX()).programId).toBe('inj-1');
  });
});

describe('what the injector refuses to seal', () => {
  it('a dry run, by flag or by program id, is never sealed', async () => {
    const signer = createLocalSigner(key1);
    const dryByFlag = compile('REDUCE_COSTS BY 15%', {}, { programId: 'inj-1', dryRun: true }).bytecode as Buffer;
    const dryById = compile('REDUCE_COSTS BY 15%', {}, { programId: 'dry-run' }).bytecode as Buffer;
    expect(readContainer(dryByFlag).dryRun).toBe(true);
    expect(readContainer(dryById).dryRun).toBe(true);
    expect(await signingFailure(() => sealCompiled(dryByFlag, envelope(), signer))).toBe('SIGNING_DRY_RUN');
    expect(await signingFailure(() => sealCompiled(dryById, envelope(), signer))).toBe('SIGNING_DRY_RUN');
    expect(await signingFailure(() => sealProgram(readContainer(dryById).body, envelope(), signer))).toBe('SIGNING_DRY_RUN');
    const real = compile('REDUCE_COSTS BY 15%', {}, { programId: 'inj-1' }).bytecode as Buffer;
    expect(await signingFailure(() => sealCompiled(real, envelope(), signer))).toBe('SEALED');
  });

  it('sealCompiled takes only unsigned compiler output; a bad target or sequence is refused', async () => {
    const signer = createLocalSigner(key1);
    expect(await signingFailure(async () => sealCompiled(await seal(), envelope(), signer))).toBe('SIGNING_NOT_UNSIGNED');
    expect(await signingFailure(() => seal({ target: { kind: 'agent', name: '../etc' } }))).toBe('SIGNING_BAD_ENVELOPE');
    expect(await signingFailure(() => seal({ sequence: 0 }))).toBe('SIGNING_BAD_ENVELOPE');
  });

  it('a rollback re-seals only a body a trusted key signed: an unverifiable one is never laundered', async () => {
    const sealing = testSealing(key1);
    const previous = await seal({ reloadId: 'inj-0', sequence: 50 });
    const restored = await resealVerified(previous, sealing.trustedKeys, envelope({ reloadId: 'inj-1.rollback', sequence: 101 }), sealing.signer);
    const program = verifyForAgent(restored, agentX({ reloadId: 'inj-1.rollback', lastSequence: 100 }));
    expect(program.container.body.equals(readContainer(previous).body)).toBe(true);
    const planted = await sealProgram(body, envelope(), createLocalSigner(testSigningKey('attacker')));
    expect(await signingFailure(() => resealVerified(planted, sealing.trustedKeys, envelope(), sealing.signer))).toBe('SIGNING_UNVERIFIED_BODY');
    expect(await signingFailure(() => resealVerified(buildUnsigned('x', [REDUCE_15]), sealing.trustedKeys, envelope(), sealing.signer))).toBe('SIGNING_UNVERIFIED_BODY');
    // After a rotation the old key stays trusted by the injector, so programs it signed can still be restored.
    const rotated = testSealing(key2, key1);
    expect(await signingFailure(() => resealVerified(previous, rotated.trustedKeys, envelope(), rotated.signer))).toBe('SEALED');
  });

  it('sealForInstall and sealForRollback bind to the agent and reload, rollback above install', async () => {
    const sealing = { ...testSealing(key1), now: () => NOW };
    const compiled = compile('REDUCE_COSTS BY 15%', {}, { programId: 'inj-1' }).bytecode as Buffer;
    const install = await sealForInstall(sealing, { compiled, agentId: 'agent-x', reloadId: 'inj-1' });
    const rollback = await sealForRollback(sealing, { previous: null, agentId: 'agent-x', reloadId: 'inj-1.rollback', agentLastSequence: install.sequence });
    expect(install.sequence).toBe(NOW * 2);
    expect(rollback.sequence).toBe(NOW * 2 + 1);
    expect(rollback.programId).toBeNull();
    expect(verifyForAgent(install.bytes, agentX({ lastSequence: null })).programId).toBe('inj-1');
    expect(verifyForAgent(rollback.bytes, agentX({ reloadId: 'inj-1.rollback', lastSequence: install.sequence })).container.kind).toBe('clear');
    expect(install.notAfterMs).toBe(NOW + sealing.envelopeTtlMs);
  });
});

describe('sequences and keys', () => {
  it('install 2B, rollback 2B+1, never at or under what the agent last accepted', () => {
    expect(sequenceFor('install', 500)).toBe(1000);
    expect(sequenceFor('rollback', 500)).toBe(1001);
    expect(sequenceFor('install', 501)).toBeGreaterThan(sequenceFor('rollback', 500));
    expect(sequenceFor('rollback', 500, 5000)).toBe(5001);
    expect(sequenceFor('install', 500, 10)).toBe(1000);
    expect(() => sequenceFor('install', 0)).toThrow(RangeError);
  });

  it('trusted keys and signing keys round-trip through their text forms; bad entries are refused by name', () => {
    const text = formatTrustedKeys(trustedKeysOf(key1, key2));
    expect([...parseTrustedKeys(text).keys()]).toEqual([key1.keyId, key2.keyId]);
    expect(parseSigningKey(formatSigningKey(key1)).publicKey.equals(key1.publicKey)).toBe(true);
    expect(() => parseTrustedKeys('no-colon')).toThrow(/entry #1 is not kid:base64-public-key/);
    expect(() => parseTrustedKeys('k:AAAA')).toThrow(/32 bytes of base64/);
    expect(() => parseTrustedKeys(`${text},${text}`)).toThrow(/listed twice/);
    expect(() => parseSigningKey('00112233445566778899aabbccddeeff')).toThrow(/HMAC key of bytecode v1 is no longer used/);
  });
});
