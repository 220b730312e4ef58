// Ed25519 key material: key ids, trusted public-key sets (`kid:base64` lists), private keys from env, PEM or generation.
import { createPrivateKey, createPublicKey, generateKeyPairSync, KeyObject } from 'node:crypto';
import { SigningError } from './errors';

/** Key ids name a key in an envelope and in a trusted-key list: short, never secret. */
export const KEY_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
export const ED25519_RAW_KEY_BYTES = 32;
/** Keys one trusted set may hold: enough for a rotation (old, new, next), small enough to stay readable. */
export const MAX_TRUSTED_KEYS = 16;
/** A trusted-key list longer than this is refused unread. */
export const MAX_TRUSTED_KEYS_TEXT_CHARS = 4096;

/** Public keys by key id: what an agent (and the injector, for rollbacks) accepts signatures from. */
export type TrustedKeys = ReadonlyMap<string, KeyObject>;

export interface SigningKeyPair {
  keyId: string;
  privateKey: KeyObject;
  publicKey: KeyObject;
}

function assertKeyId(keyId: string, where: string): void {
  if (!KEY_ID_PATTERN.test(keyId)) {
    throw new SigningError('SIGNING_BAD_KEY', `${where}: key id ${JSON.stringify(keyId.slice(0, 80))} is not letters, digits, . _ - (at most 64)`);
  }
}

function rawKey(base64: string, where: string): Buffer {
  const bytes = Buffer.from(base64, 'base64');
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(base64) || bytes.length !== ED25519_RAW_KEY_BYTES) {
    throw new SigningError('SIGNING_BAD_KEY', `${where}: expected ${ED25519_RAW_KEY_BYTES} bytes of base64 (a raw Ed25519 key)`);
  }
  return bytes;
}

/** An Ed25519 public key from its raw 32 bytes. */
export function publicKeyFromRaw(raw: Buffer): KeyObject {
  return createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: raw.toString('base64url') }, format: 'jwk' });
}

/** The raw 32 bytes of an Ed25519 public key, base64. */
export function rawPublicKeyBase64(publicKey: KeyObject): string {
  const jwk = publicKey.export({ format: 'jwk' });
  if (jwk.crv !== 'Ed25519' || typeof jwk.x !== 'string') throw new SigningError('SIGNING_BAD_KEY', 'not an Ed25519 public key');
  return Buffer.from(jwk.x, 'base64url').toString('base64');
}

/** Parses `kid:base64,kid:base64` (commas or newlines between entries; blank entries ignored). */
export function parseTrustedKeys(text: string, where = 'OPENCLAW_TRUSTED_KEYS'): TrustedKeys {
  if (text.length > MAX_TRUSTED_KEYS_TEXT_CHARS) throw new SigningError('SIGNING_BAD_KEY', `${where}: over ${MAX_TRUSTED_KEYS_TEXT_CHARS} characters`);
  const keys = new Map<string, KeyObject>();
  const entries = text.split(/[,\n]/).map((e) => e.trim()).filter((e) => e !== '');
  if (entries.length > MAX_TRUSTED_KEYS) throw new SigningError('SIGNING_BAD_KEY', `${where}: at most ${MAX_TRUSTED_KEYS} keys (got ${entries.length})`);
  entries.forEach((entry, i) => {
    const colon = entry.indexOf(':');
    if (colon < 0) throw new SigningError('SIGNING_BAD_KEY', `${where}: entry #${i + 1} is not kid:base64-public-key`);
    const keyId = entry.slice(0, colon);
    assertKeyId(keyId, `${where} entry #${i + 1}`);
    if (keys.has(keyId)) throw new SigningError('SIGNING_BAD_KEY', `${where}: key id ${keyId} is listed twice`);
    keys.set(keyId, publicKeyFromRaw(rawKey(entry.slice(colon + 1), `${where} entry ${keyId}`)));
  });
  return keys;
}

/** One trusted-key entry, `kid:base64`, as parseTrustedKeys reads it. */
export function formatTrustedKey(keyId: string, publicKey: KeyObject): string {
  return `${keyId}:${rawPublicKeyBase64(publicKey)}`;
}

/** A trusted set as text, for an agent's OPENCLAW_TRUSTED_KEYS. */
export function formatTrustedKeys(keys: TrustedKeys): string {
  return [...keys].map(([keyId, key]) => formatTrustedKey(keyId, key)).join(',');
}

export function mergeTrustedKeys(...sets: TrustedKeys[]): TrustedKeys {
  const merged = new Map<string, KeyObject>();
  for (const set of sets) for (const [keyId, key] of set) merged.set(keyId, key);
  return merged;
}

export function generateSigningKeyPair(keyId: string): SigningKeyPair {
  assertKeyId(keyId, 'generated key');
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return { keyId, privateKey, publicKey };
}

function pairOf(keyId: string, privateKey: KeyObject, where: string): SigningKeyPair {
  assertKeyId(keyId, where);
  if (privateKey.asymmetricKeyType !== 'ed25519') throw new SigningError('SIGNING_BAD_KEY', `${where}: not an Ed25519 private key`);
  return { keyId, privateKey, publicKey: createPublicKey(privateKey) };
}

/** `kid:base64-seed` (the raw 32-byte Ed25519 private key), as OPENCLAW_SIGNING_KEY holds it. */
export function parseSigningKey(text: string, where = 'OPENCLAW_SIGNING_KEY'): SigningKeyPair {
  const colon = text.indexOf(':');
  if (colon < 0) throw new SigningError('SIGNING_BAD_KEY', `${where}: expected kid:base64 of a 32-byte Ed25519 private key (the HMAC key of bytecode v1 is no longer used)`);
  const keyId = text.slice(0, colon).trim();
  assertKeyId(keyId, where);
  const seed = rawKey(text.slice(colon + 1).trim(), where);
  const privateKey = createPrivateKey({ key: pkcs8OfSeed(seed), format: 'der', type: 'pkcs8' });
  return pairOf(keyId, privateKey, where);
}

/** A PKCS#8 PEM Ed25519 private key (what `openssl genpkey -algorithm ed25519` writes), named `keyId`. */
export function parseSigningKeyPem(pem: string, keyId: string, where: string): SigningKeyPair {
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: pem, format: 'pem' });
  } catch (err) {
    throw new SigningError('SIGNING_BAD_KEY', `${where}: not a PEM private key`, { cause: err });
  }
  return pairOf(keyId, key, where);
}

/** `kid:base64-seed`, the inverse of parseSigningKey. */
export function formatSigningKey(pair: SigningKeyPair): string {
  const jwk = pair.privateKey.export({ format: 'jwk' });
  if (typeof jwk.d !== 'string') throw new SigningError('SIGNING_BAD_KEY', 'not an Ed25519 private key');
  return `${pair.keyId}:${Buffer.from(jwk.d, 'base64url').toString('base64')}`;
}

export function privateKeyPem(pair: SigningKeyPair): string {
  return pair.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
}

/** The fixed DER prefix of an Ed25519 PKCS#8 private key (RFC 8410), followed by the 32-byte seed. */
const ED25519_PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

function pkcs8OfSeed(seed: Buffer): Buffer {
  return Buffer.concat([ED25519_PKCS8_PREFIX, seed]);
}
