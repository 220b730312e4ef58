// The injector's sealing step, as the Docker activities call it: one agent, one reload, one sequence, one expiry.
import { readContainer } from '../bytecode/format';
import type { TrustedKeys } from './keys';
import { sealClear, sealCompiled, SealEnvelope, resealVerified, sealRestore } from './seal';
import { sequenceFor, timestampBase } from './sequence';
import type { ProgramSigner } from './signer';

/** How long a sealed program stays acceptable: staging, the reload and the agent's poll fit well inside it. */
export const DEFAULT_ENVELOPE_TTL_MS = 15 * 60 * 1000;
export const MIN_ENVELOPE_TTL_MS = 10 * 1000;
export const MAX_ENVELOPE_TTL_MS = 24 * 60 * 60 * 1000;

/** What a worker next to a Docker engine needs to seal: the private key (behind a signer) stays here. */
export interface ProgramSealing {
  signer: ProgramSigner;
  /** Keys whose earlier programs a rollback may re-seal: the signer's own and those it was rotated from. */
  trustedKeys: TrustedKeys;
  envelopeTtlMs: number;
  /** The clock (tests may pin it); Date.now by default. */
  now?: () => number;
}

export interface SealedForAgent {
  bytes: Buffer;
  sequence: number;
  notAfterMs: number;
  /** null: a signed clear. */
  programId: string | null;
}

interface AgentReload {
  agentId: string;
  reloadId: string;
  /** CURRENT.sequence as the agent reports it, or null; the sequence is sealed above it. */
  agentLastSequence?: number | null;
  /** The sequence base (a lease's fencing token, later); the sealing clock's milliseconds when absent. */
  base?: number;
}

function envelopeFor(sealing: ProgramSealing, input: AgentReload, step: 'install' | 'rollback'): SealEnvelope {
  const nowMs = (sealing.now ?? Date.now)();
  return {
    reloadId: input.reloadId,
    target: { kind: 'agent', name: input.agentId },
    notAfterMs: nowMs + sealing.envelopeTtlMs,
    sequence: sequenceFor(step, input.base ?? timestampBase(nowMs), input.agentLastSequence ?? null),
  };
}

/** The forward install: the compiler's unsigned output sealed for this agent and reload (sequence 2B). */
export async function sealForInstall(sealing: ProgramSealing, input: AgentReload & { compiled: Buffer }): Promise<SealedForAgent> {
  const envelope = envelopeFor(sealing, input, 'install');
  const bytes = await sealCompiled(input.compiled, envelope, sealing.signer);
  return { bytes, sequence: envelope.sequence, notAfterMs: envelope.notAfterMs, programId: readContainer(bytes).envelope.programId };
}

/**
 * A rollback (sequence 2B+1): the program the injection replaced, re-sealed for the rollback reload after its
 * signature is checked against the trusted keys; or, when there was none, a signed clear.
 */
export async function sealForRollback(sealing: ProgramSealing, input: AgentReload & { previous: Buffer | null }): Promise<SealedForAgent> {
  const envelope = envelopeFor(sealing, input, 'rollback');
  const bytes = input.previous ? await resealVerified(input.previous, sealing.trustedKeys, envelope, sealing.signer) : await sealClear(envelope, sealing.signer);
  return { bytes, sequence: envelope.sequence, notAfterMs: envelope.notAfterMs, programId: readContainer(bytes).envelope.programId };
}

/** A protocol-v2 rollback (sequence 2B+1): a signed restore; the agent puts back its own record of what R replaced. */
export async function sealForRestore(sealing: ProgramSealing, input: AgentReload): Promise<SealedForAgent> {
  const envelope = envelopeFor(sealing, input, 'rollback');
  const bytes = await sealRestore(envelope, sealing.signer);
  return { bytes, sequence: envelope.sequence, notAfterMs: envelope.notAfterMs, programId: null };
}
