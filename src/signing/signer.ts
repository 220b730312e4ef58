// Who signs programs: a small interface that a KMS or HSM client can implement; the local one holds an Ed25519 key.
import { KeyObject, sign } from 'node:crypto';
import type { SigningKeyPair } from './keys';

/**
 * Signs the bytes sealProgram hands it (domain prefix included) with Ed25519 and returns the 64-byte signature.
 * `keyId` is written into every envelope it signs; agents look the public key up by it.
 */
export interface ProgramSigner {
  readonly keyId: string;
  sign(message: Buffer): Buffer | Promise<Buffer>;
}

/** A signer over a private key held in this process (from OPENCLAW_SIGNING_KEY[_FILE] or the dev key file). */
export function createLocalSigner(pair: Pick<SigningKeyPair, 'keyId' | 'privateKey'>): ProgramSigner {
  const privateKey: KeyObject = pair.privateKey;
  return {
    keyId: pair.keyId,
    sign: (message) => sign(null, message, privateKey),
  };
}
