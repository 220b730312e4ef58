// The workers' Ed25519 signing key: from OPENCLAW_SIGNING_KEY or OPENCLAW_SIGNING_KEY_FILE, or (dev only) a key pair
// generated once into the data directory. Agents never get it: they get the public key (agentTrustedKeysText).
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Config } from '../config';
import { formatTrustedKeys, generateSigningKeyPair, mergeTrustedKeys, parseSigningKeyPem, privateKeyPem, rawPublicKeyBase64, SigningKeyPair, TrustedKeys } from '../signing/keys';
import { ProgramSealing } from '../signing/sealing';
import { createLocalSigner } from '../signing/signer';

/** The dev key pair's file in the data directory (PKCS#8 PEM, mode 0600). */
export const DEV_SIGNING_KEY_FILE = 'signing-ed25519.pem';
/** A PEM private key longer than this is refused unread. */
export const MAX_KEY_FILE_BYTES = 16 * 1024;
const DEV_KEY_ID_HEX_CHARS = 8;

type SigningConfig = Pick<Config, 'signingKey' | 'signingKeyFile' | 'trustedKeys' | 'dataDir'>;

export interface SigningKeys {
  pair: SigningKeyPair;
  /** The signing key's public half and OPENCLAW_TRUSTED_KEYS: what a rollback may re-seal, what agents should hold. */
  trustedKeys: TrustedKeys;
  /** Where it came from, for start-up messages. */
  source: 'env' | 'file' | 'dev-file';
  file?: string;
}

/** The dev key id names the key by its public half, so two data directories never share an id. */
function devKeyId(pair: Pick<SigningKeyPair, 'publicKey'>): string {
  const digest = createHash('sha256').update(Buffer.from(rawPublicKeyBase64(pair.publicKey), 'base64')).digest('hex');
  return `dev-${digest.slice(0, DEV_KEY_ID_HEX_CHARS)}`;
}

function readKeyFile(file: string): string {
  const text = readFileSync(file, 'utf8');
  if (Buffer.byteLength(text) > MAX_KEY_FILE_BYTES) throw new Error(`${file} is over ${MAX_KEY_FILE_BYTES} bytes: not a PEM private key`);
  return text;
}

function devPair(dataDir: string): { pair: SigningKeyPair; file: string } {
  const file = path.join(dataDir, DEV_SIGNING_KEY_FILE);
  if (!existsSync(file)) {
    mkdirSync(dataDir, { recursive: true });
    const generated = generateSigningKeyPair('dev');
    try {
      writeFileSync(file, privateKeyPem(generated), { mode: 0o600, flag: 'wx' });
    } catch (err) {
      // Another process of this checkout created it first: use theirs.
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
  chmodSync(file, 0o600);
  const loaded = parseSigningKeyPem(readKeyFile(file), 'dev', file);
  return { pair: { ...loaded, keyId: devKeyId(loaded) }, file };
}

/** The configured key, or the data directory's dev key pair (created on first use, mode 0600). */
export function loadSigningKeys(config: SigningConfig): SigningKeys {
  let pair: SigningKeyPair;
  let source: SigningKeys['source'];
  let file: string | undefined;
  if (config.signingKey) {
    pair = config.signingKey;
    source = 'env';
  } else if (config.signingKeyFile) {
    file = config.signingKeyFile.path;
    pair = parseSigningKeyPem(readKeyFile(file), config.signingKeyFile.keyId, 'OPENCLAW_SIGNING_KEY_FILE');
    source = 'file';
  } else {
    ({ pair, file } = devPair(config.dataDir));
    source = 'dev-file';
  }
  const own: TrustedKeys = new Map([[pair.keyId, pair.publicKey]]);
  return { pair, trustedKeys: mergeTrustedKeys(config.trustedKeys, own), source, ...(file ? { file } : {}) };
}

/** What the Docker activities seal with. */
export function programSealing(keys: SigningKeys, config: Pick<Config, 'envelopeTtlMs'>): ProgramSealing {
  return { signer: createLocalSigner(keys.pair), trustedKeys: keys.trustedKeys, envelopeTtlMs: config.envelopeTtlMs };
}

/**
 * Public keys only, for reading programs (the CLI): OPENCLAW_TRUSTED_KEYS, the configured signing key's public half,
 * and the dev key's when its file exists (never created here).
 */
export function loadTrustedKeys(config: SigningConfig): TrustedKeys {
  const hasDevFile = existsSync(path.join(config.dataDir, DEV_SIGNING_KEY_FILE));
  if (config.signingKey || config.signingKeyFile || hasDevFile) return loadSigningKeys(config).trustedKeys;
  return config.trustedKeys;
}

/** OPENCLAW_TRUSTED_KEYS for an agent: public keys with their ids, never the private key. */
export function agentTrustedKeysText(keys: Pick<SigningKeys, 'trustedKeys'>): string {
  return formatTrustedKeys(keys.trustedKeys);
}
