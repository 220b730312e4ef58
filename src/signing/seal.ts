// Sealing: a program body (or a clear) bound to one target, reload, expiry and sequence, signed by a ProgramSigner.
import { decodeBody } from '../bytecode/body-codec';
import { ContainerParts, encodeContainer, ProgramTarget, readContainer, sha256Hex, signedMessageOf, SIGNATURE_BYTES } from '../bytecode/format';
import { ROLLBACK_SUFFIX } from '../agent/protocol';
import { SigningError } from './errors';
import type { TrustedKeys } from './keys';
import type { ProgramSigner } from './signer';
import { verifySignature } from './verify';

/** The program id of a dry run (POST /compile, `openclaw compile`): never sealed. */
export const DRY_RUN_PROGRAM_ID = 'dry-run';
/** Target names follow the agent protocol's name pattern (docs/agent-protocol.md). */
const TARGET_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;

/** What a seal binds a body to; the key id comes from the signer and the checksum from the body. */
export interface SealEnvelope {
  reloadId: string;
  target: ProgramTarget;
  notAfterMs: number;
  sequence: number;
}

function checkEnvelope(envelope: SealEnvelope): void {
  if (!TARGET_NAME_PATTERN.test(envelope.target.name)) {
    throw new SigningError('SIGNING_BAD_ENVELOPE', `target ${JSON.stringify(envelope.target.name.slice(0, 80))} is not an agent id or group name`);
  }
  if (!Number.isSafeInteger(envelope.sequence) || envelope.sequence < 1) {
    throw new SigningError('SIGNING_BAD_ENVELOPE', `sequence must be a positive safe integer, got ${envelope.sequence}`);
  }
  if (!Number.isSafeInteger(envelope.notAfterMs) || envelope.notAfterMs < 1) {
    throw new SigningError('SIGNING_BAD_ENVELOPE', `notAfterMs must be a positive safe integer, got ${envelope.notAfterMs}`);
  }
}

async function signParts(parts: ContainerParts, signer: ProgramSigner): Promise<Buffer> {
  const signature = await signer.sign(signedMessageOf(parts));
  if (!Buffer.isBuffer(signature) || signature.length !== SIGNATURE_BYTES) {
    throw new SigningError('SIGNING_BAD_KEY', `signer ${signer.keyId} returned ${Buffer.isBuffer(signature) ? signature.length : typeof signature} bytes, not a ${SIGNATURE_BYTES}-byte Ed25519 signature`);
  }
  return encodeContainer(parts, signature);
}

/**
 * Seals body bytes (the body codec's output) for one target. Refuses a dry run's program id. The body is decoded
 * first, so nothing malformed is ever signed.
 */
export async function sealProgram(body: Buffer, envelope: SealEnvelope, signer: ProgramSigner): Promise<Buffer> {
  checkEnvelope(envelope);
  const { programId } = decodeBody(body);
  if (programId === DRY_RUN_PROGRAM_ID) throw new SigningError('SIGNING_DRY_RUN', `program id ${DRY_RUN_PROGRAM_ID} is a dry run's: it is never sealed`);
  return signParts(
    {
      kind: 'program',
      flags: 0,
      envelope: { keyId: signer.keyId, programId, ...envelope, bodySha256: sha256Hex(body) },
      body,
    },
    signer,
  );
}

/** A signed "run nothing": the agent removes its program. An unsigned `program: null` signal is refused. */
export async function sealClear(envelope: SealEnvelope, signer: ProgramSigner): Promise<Buffer> {
  checkEnvelope(envelope);
  const body = Buffer.alloc(0);
  return signParts({ kind: 'clear', flags: 0, envelope: { keyId: signer.keyId, programId: null, ...envelope, bodySha256: sha256Hex(body) }, body }, signer);
}

/**
 * A signed "put back what reload R replaced" (agent protocol v2) for the reload `<R>.rollback`: the agent restores
 * its own record of what R replaced, only while it still runs R's program (a compare-and-swap done by the agent).
 */
export async function sealRestore(envelope: SealEnvelope, signer: ProgramSigner): Promise<Buffer> {
  checkEnvelope(envelope);
  if (!envelope.reloadId.endsWith(ROLLBACK_SUFFIX) || envelope.reloadId.length === ROLLBACK_SUFFIX.length) {
    throw new SigningError('SIGNING_BAD_ENVELOPE', `a restore is sealed for a rollback reload (<R>${ROLLBACK_SUFFIX}), not ${JSON.stringify(envelope.reloadId.slice(0, 80))}`);
  }
  const body = Buffer.alloc(0);
  return signParts({ kind: 'restore', flags: 0, envelope: { keyId: signer.keyId, programId: null, ...envelope, bodySha256: sha256Hex(body) }, body }, signer);
}

/** Seals the compiler's unsigned output (what compileProgram records) for one target; a dry run's is refused. */
export async function sealCompiled(unsigned: Buffer, envelope: SealEnvelope, signer: ProgramSigner): Promise<Buffer> {
  const container = readContainer(unsigned);
  if (!container.unsigned || container.kind !== 'program') {
    throw new SigningError('SIGNING_NOT_UNSIGNED', 'only the compiler\'s unsigned output is sealed this way (a signed program is re-sealed with resealVerified)');
  }
  if (container.dryRun) throw new SigningError('SIGNING_DRY_RUN', 'the program is a dry run\'s output: it is never sealed');
  return sealProgram(container.body, envelope, signer);
}

/**
 * Re-seals a program this injector (or another trusted key) signed before, for a new reload: a rollback restoring
 * the previous program. Its signature is checked against `trustedKeys` first, so a body planted by someone else is
 * never laundered into a valid program (SIGNING_UNVERIFIED_BODY, its cause the agent-side refusal code).
 */
export async function resealVerified(signed: Buffer, trustedKeys: TrustedKeys, envelope: SealEnvelope, signer: ProgramSigner): Promise<Buffer> {
  let container;
  try {
    container = verifySignature(signed, trustedKeys);
  } catch (err) {
    const detail = err instanceof Error ? err.message : String(err);
    throw new SigningError('SIGNING_UNVERIFIED_BODY', `the program to restore does not verify against the trusted keys, so it is not re-sealed: ${detail}`, { cause: err });
  }
  if (container.kind === 'restore') throw new SigningError('SIGNING_UNVERIFIED_BODY', 'a restore names no program to re-seal');
  return container.kind === 'clear' ? sealClear(envelope, signer) : sealProgram(container.body, envelope, signer);
}
