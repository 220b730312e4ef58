// Sequence numbers for envelopes: strictly rising per agent, so an agent can refuse anything older than it has run.
//
// The rule: an injection with base B installs with sequence 2B and its rollback uses 2B+1. A later injection has a
// larger base, so its install (2B' >= 2B+2) is above the earlier rollback. The base comes from the caller: a lease's
// fencing token once there is one; until then the clock in milliseconds of the worker that seals (timestampBase).
// The sequence never falls at or under the last one the agent reports (CURRENT.sequence), so a worker whose clock
// runs behind another's still seals something the agent accepts.

/** Per base: one sequence for the install, one for its rollback. */
export const SEQUENCES_PER_BASE = 2;
/** Largest base whose sequences stay safe integers. */
export const MAX_SEQUENCE_BASE = Math.floor((Number.MAX_SAFE_INTEGER - 1) / SEQUENCES_PER_BASE);

export type SequenceStep = 'install' | 'rollback';

/** A base from the clock: milliseconds since the epoch. */
export function timestampBase(nowMs: number = Date.now()): number {
  return Math.floor(nowMs);
}

/** 2B for an install, 2B+1 for its rollback; then at least one above what the agent last accepted. */
export function sequenceFor(step: SequenceStep, base: number, agentLastSequence: number | null = null): number {
  if (!Number.isSafeInteger(base) || base < 1 || base > MAX_SEQUENCE_BASE) throw new RangeError(`sequence base must be an integer from 1 to ${MAX_SEQUENCE_BASE}, got ${base}`);
  const own = base * SEQUENCES_PER_BASE + (step === 'rollback' ? 1 : 0);
  const floor = agentLastSequence !== null && Number.isSafeInteger(agentLastSequence) && agentLastSequence >= 0 && agentLastSequence < Number.MAX_SAFE_INTEGER ? agentLastSequence + 1 : 0;
  return Math.max(own, floor);
}
