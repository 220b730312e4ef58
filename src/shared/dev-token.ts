// Dev mode's bearer token: drawn at random when `npm start` starts a gateway with no token configured, written to the
// data directory (mode 0600) so that the CLI on the same machine finds it, and replaced at every start.
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export const DEV_TOKEN_FILE = 'dev-token';
/** 32 random bytes: 43 base64url characters, over MIN_API_TOKEN_CHARS. */
export const DEV_TOKEN_BYTES = 32;
/** A token file larger than this is not a token this code wrote. */
const MAX_DEV_TOKEN_FILE_BYTES = 256;

export function devTokenPath(dataDir: string): string {
  return path.join(dataDir, DEV_TOKEN_FILE);
}

/** A new token, written to `<dataDir>/dev-token` with mode 0600 (through a temporary file, so no reader sees half of it). */
export function writeDevToken(dataDir: string): { token: string; file: string } {
  const token = randomBytes(DEV_TOKEN_BYTES).toString('base64url');
  const file = devTokenPath(dataDir);
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const staging = `${file}.${process.pid}.tmp`;
  writeFileSync(staging, token + '\n', { mode: 0o600, flag: 'w' });
  chmodSync(staging, 0o600);
  renameSync(staging, file);
  return { token, file };
}

/** The token in `<dataDir>/dev-token`, or undefined when there is none (or it is not one). */
export function readDevToken(dataDir: string): string | undefined {
  try {
    const text = readFileSync(devTokenPath(dataDir), 'utf8');
    if (text.length > MAX_DEV_TOKEN_FILE_BYTES) return undefined;
    const token = text.trim();
    return /^[A-Za-z0-9_-]+$/.test(token) ? token : undefined;
  } catch {
    return undefined;
  }
}
