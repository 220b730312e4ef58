// Program signing (docs/security.md): Ed25519 keys, the signer interface, sealing for one agent, and verification.
export * from './errors';
export * from './keys';
export * from './signer';
export * from './seal';
export * from './sealing';
export * from './sequence';
export * from './verify';
export * from './describe';
