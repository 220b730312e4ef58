// A program's listing that says exactly what was verified: which trusted key checked the signature, or why none did.
import { disassemble } from '../bytecode/disassemble';
import { BytecodeError, readContainer } from '../bytecode/format';
import type { TrustedKeys } from './keys';
import { verifySignature } from './verify';

/** One phrase for the listing's signature line: verified with key K, not verified (code: why), or unsigned. */
export function signatureStatus(bytes: Buffer, trustedKeys: TrustedKeys): string {
  const container = readContainer(bytes);
  if (container.unsigned) return container.dryRun ? 'none: an unsigned dry run, no agent accepts it' : 'none: unsigned compiler output, no agent accepts it until the injector seals it';
  try {
    verifySignature(bytes, trustedKeys);
    return `Ed25519, verified against trusted key ${container.envelope.keyId} (target, expiry and sequence are the agent's to check)`;
  } catch (err) {
    if (!(err instanceof BytecodeError)) throw err;
    return `NOT VERIFIED: ${err.code}: ${err.message}`;
  }
}

/** The disassembly, its signature checked against `trustedKeys` when given ("not checked" otherwise). */
export function disassembleChecked(bytes: Buffer, trustedKeys?: TrustedKeys): string {
  return disassemble(bytes, trustedKeys ? { signatureStatus: signatureStatus(bytes, trustedKeys) } : {});
}
