// Errors of the injector's signing side: bad key material, or a program that must not be sealed.
export type SigningErrorCode =
  /** A key, key id or trusted-key list that does not parse. */
  | 'SIGNING_BAD_KEY'
  /** A dry run's output (FLAG_DRY_RUN, or the program id `dry-run`): nothing ever seals it. */
  | 'SIGNING_DRY_RUN'
  /** sealCompiled was given a file that is not the compiler's unsigned output. */
  | 'SIGNING_NOT_UNSIGNED'
  /** A rollback's previous program could not be verified, so it is not re-sealed (never launder a body). */
  | 'SIGNING_UNVERIFIED_BODY'
  /** An envelope field out of its bounds (target name, sequence, expiry). */
  | 'SIGNING_BAD_ENVELOPE';

export class SigningError extends Error {
  constructor(
    readonly code: SigningErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'SigningError';
  }
}
