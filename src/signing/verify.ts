// Checking a v2 program: its signature against a trusted key set, then (for an agent) what the envelope binds it to.
import { verify } from 'node:crypto';
import { BytecodeError, Container, decodeContainer, DecodedProgram, readContainer } from '../bytecode/format';
import type { TrustedKeys } from './keys';

/**
 * Framing, checksum and signature, in that order: BC_* codes of readContainer, then BC_UNSIGNED (no signature at
 * all), BC_UNKNOWN_KEY (a key id outside `trustedKeys`), BC_BAD_SIGNATURE. Says nothing about target or expiry.
 */
export function verifySignature(bytes: Buffer, trustedKeys: TrustedKeys): Container {
  const container = readContainer(bytes);
  if (container.unsigned) {
    const what = container.dryRun ? 'a dry run' : 'unsigned compiler output';
    throw new BytecodeError('BC_UNSIGNED', `the program is ${what}: only the injector's sealed programs are accepted`);
  }
  const keyId = container.envelope.keyId;
  const key = trustedKeys.get(keyId);
  if (!key) throw new BytecodeError('BC_UNKNOWN_KEY', `the program is signed with key ${JSON.stringify(keyId)}, which is not among the trusted keys (${[...trustedKeys.keys()].join(', ') || 'none'})`);
  let valid = false;
  try {
    valid = verify(null, container.signedMessage, key, container.signature);
  } catch (err) {
    throw new BytecodeError('BC_BAD_SIGNATURE', 'the Ed25519 signature could not be checked', { cause: err });
  }
  if (!valid) throw new BytecodeError('BC_BAD_SIGNATURE', `the Ed25519 signature does not match key ${keyId}: the program was changed or not signed by the injector`);
  return container;
}

/** What an agent knows about itself and its last accepted program when it checks a staged one. */
export interface AgentExpectations {
  trustedKeys: TrustedKeys;
  agentId: string;
  group: string | null;
  /** The RELOAD_SIGNAL id the program was staged for. */
  reloadId: string;
  nowMs: number;
  /** The highest sequence this agent has accepted; null before its first signed program. */
  lastSequence: number | null;
}

/**
 * Everything an agent checks before it runs or applies a staged file, in this order: verifySignature, then target
 * (ENVELOPE_WRONG_TARGET), reload id (ENVELOPE_RELOAD_MISMATCH), expiry (ENVELOPE_EXPIRED), sequence (ENVELOPE_REPLAYED
 * for the last accepted one again, ENVELOPE_STALE_SEQUENCE for an older one), and finally the body (BC_MALFORMED, BC_LIMIT).
 */
export function verifyForAgent(bytes: Buffer, expect: AgentExpectations): DecodedProgram {
  const container = verifySignature(bytes, expect.trustedKeys);
  const { envelope } = container;
  const target = envelope.target;
  const forMe = target !== null && (target.kind === 'agent' ? target.name === expect.agentId : target.name === expect.group);
  if (!forMe) {
    const named = target ? `${target.kind} ${target.name}` : 'no target';
    throw new BytecodeError('ENVELOPE_WRONG_TARGET', `the program is sealed for ${named}, this is agent ${expect.agentId}${expect.group ? ` in group ${expect.group}` : ''}`);
  }
  if (envelope.reloadId !== expect.reloadId) {
    throw new BytecodeError('ENVELOPE_RELOAD_MISMATCH', `the program is sealed for reload ${envelope.reloadId}, the signal names ${expect.reloadId}`);
  }
  if (expect.nowMs > envelope.notAfterMs) {
    throw new BytecodeError('ENVELOPE_EXPIRED', `the program expired at ${new Date(envelope.notAfterMs).toISOString()} (now ${new Date(expect.nowMs).toISOString()})`);
  }
  if (expect.lastSequence !== null && envelope.sequence <= expect.lastSequence) {
    const code = envelope.sequence === expect.lastSequence ? 'ENVELOPE_REPLAYED' : 'ENVELOPE_STALE_SEQUENCE';
    throw new BytecodeError(code, `sequence ${envelope.sequence} is not above ${expect.lastSequence}, the last this agent accepted`);
  }
  return decodeContainer(container);
}
