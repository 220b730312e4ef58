// Test key pairs and sealing: what the workers do with their private key, done by a test directly.
import { randomBytes } from 'node:crypto';
import { ProgramTarget } from '../../src/bytecode/format';
import { generateSigningKeyPair, mergeTrustedKeys, SigningKeyPair, TrustedKeys } from '../../src/signing/keys';
import { ProgramSealing } from '../../src/signing/sealing';
import { sealClear, sealProgram, sealRestore } from '../../src/signing/seal';
import { createLocalSigner } from '../../src/signing/signer';

/** Long enough for any test's reload to be read: the agent checks expiry when it verifies, moments after staging. */
export const TEST_ENVELOPE_TTL_MS = 10 * 60 * 1000;

/** A fresh Ed25519 key pair with a random key id `<prefix>-<hex>`. */
export function testSigningKey(prefix = 'test'): SigningKeyPair {
  return generateSigningKeyPair(`${prefix}-${randomBytes(4).toString('hex')}`);
}

export function trustedKeysOf(...pairs: SigningKeyPair[]): TrustedKeys {
  return mergeTrustedKeys(...pairs.map((p): TrustedKeys => new Map([[p.keyId, p.publicKey]])));
}

/** What the test injector's Docker activities seal with. */
export function testSealing(pair: SigningKeyPair, ...alsoTrusted: SigningKeyPair[]): ProgramSealing {
  return { signer: createLocalSigner(pair), trustedKeys: trustedKeysOf(pair, ...alsoTrusted), envelopeTtlMs: TEST_ENVELOPE_TTL_MS };
}

let lastSequence = 0;
/** Strictly rising within this test process, and above any earlier process's (it starts from the clock, like the injector's). */
export function nextTestSequence(): number {
  lastSequence = Math.max(lastSequence + 1, Date.now() * 2);
  return lastSequence;
}

export interface TestSeal {
  key: SigningKeyPair;
  /** The agent it is sealed for (target kind agent), unless `target` says otherwise. */
  agentId: string;
  reloadId: string;
  target?: ProgramTarget;
  sequence?: number;
  notAfterMs?: number;
}

function envelopeOf(seal: TestSeal) {
  return {
    reloadId: seal.reloadId,
    target: seal.target ?? { kind: 'agent' as const, name: seal.agentId },
    notAfterMs: seal.notAfterMs ?? Date.now() + TEST_ENVELOPE_TTL_MS,
    sequence: seal.sequence ?? nextTestSequence(),
  };
}

/** Body bytes sealed as the injector would (a fresh sequence and a ten-minute expiry unless given). */
export function sealBody(body: Buffer, seal: TestSeal): Promise<Buffer> {
  return sealProgram(body, envelopeOf(seal), createLocalSigner(seal.key));
}

/** A signed clear for the reload. */
export function sealTestClear(seal: TestSeal): Promise<Buffer> {
  return sealClear(envelopeOf(seal), createLocalSigner(seal.key));
}

/** A signed restore (protocol v2) for the rollback reload `<R>.rollback`. */
export function sealTestRestore(seal: TestSeal): Promise<Buffer> {
  return sealRestore(envelopeOf(seal), createLocalSigner(seal.key));
}
