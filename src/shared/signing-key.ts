// The HMAC key shared with the agents: from OPENCLAW_SIGNING_KEY, or (dev only) generated once into the data directory.
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Config } from '../config';

export const DEV_SIGNING_KEY_FILE = 'signing.key';
export const GENERATED_KEY_BYTES = 32;

export interface SigningKey {
  key: Buffer;
  /** Where it came from, for start-up messages. */
  source: 'env' | 'dev-file';
  file?: string;
}

/** The configured key, or the data directory's dev key (created on first use, mode 0600). */
export function loadSigningKey(config: Pick<Config, 'signingKey' | 'dataDir'>): SigningKey {
  if (config.signingKey) return { key: config.signingKey, source: 'env' };
  const file = path.join(config.dataDir, DEV_SIGNING_KEY_FILE);
  if (!existsSync(file)) {
    mkdirSync(config.dataDir, { recursive: true });
    writeFileSync(file, randomBytes(GENERATED_KEY_BYTES).toString('hex') + '\n', { mode: 0o600, flag: 'wx' });
  }
  chmodSync(file, 0o600);
  const key = Buffer.from(readFileSync(file, 'utf8').trim(), 'hex');
  return { key, source: 'dev-file', file };
}
