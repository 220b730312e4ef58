// The workers' signing key: configured, or (dev) generated once into the data dir with mode 0600; agents get public keys only.
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../src/config';
import { agentTrustedKeysText, DEV_SIGNING_KEY_FILE, loadSigningKeys, loadTrustedKeys } from '../../src/shared/signing-key';
import { formatSigningKey, formatTrustedKey, parseTrustedKeys, privateKeyPem } from '../../src/signing/keys';
import { testSigningKey } from '../support/signing';

let dataDir: string;
beforeEach(() => {
  dataDir = mkdtempSync(path.join(os.tmpdir(), 'openclaw-keys-'));
});
afterEach(() => rmSync(dataDir, { recursive: true, force: true }));

describe('the workers\' signing key', () => {
  it('dev mode generates one key pair into the data dir (mode 0600) and keeps using it', () => {
    const config = loadConfig({ OPENCLAW_DATA_DIR: dataDir });
    expect(loadTrustedKeys(config).size).toBe(0); // reading keys never creates one
    expect(existsSync(path.join(dataDir, DEV_SIGNING_KEY_FILE))).toBe(false);
    const first = loadSigningKeys(config);
    expect(first.source).toBe('dev-file');
    expect(first.pair.keyId).toMatch(/^dev-[0-9a-f]{8}$/);
    expect(statSync(path.join(dataDir, DEV_SIGNING_KEY_FILE)).mode & 0o777).toBe(0o600);
    const again = loadSigningKeys(config);
    expect(again.pair.keyId).toBe(first.pair.keyId);
    expect([...loadTrustedKeys(config).keys()]).toEqual([first.pair.keyId]);
  });

  it('takes OPENCLAW_SIGNING_KEY or a PEM file, adds OPENCLAW_TRUSTED_KEYS, and gives agents public keys only', () => {
    const pair = testSigningKey('prod');
    const old = testSigningKey('old');
    const fromEnv = loadSigningKeys(loadConfig({ OPENCLAW_DATA_DIR: dataDir, OPENCLAW_SIGNING_KEY: formatSigningKey(pair), OPENCLAW_TRUSTED_KEYS: formatTrustedKey(old.keyId, old.publicKey) }));
    expect(fromEnv.source).toBe('env');
    expect([...fromEnv.trustedKeys.keys()].sort()).toEqual([old.keyId, pair.keyId].sort());
    const text = agentTrustedKeysText(fromEnv);
    expect(parseTrustedKeys(text).size).toBe(2);
    expect(text).not.toContain(formatSigningKey(pair).split(':')[1]);

    const pem = path.join(dataDir, 'k.pem');
    writeFileSync(pem, privateKeyPem(pair), { mode: 0o600 });
    const fromFile = loadSigningKeys(loadConfig({ OPENCLAW_DATA_DIR: dataDir, OPENCLAW_SIGNING_KEY_FILE: pem, OPENCLAW_SIGNING_KEY_ID: 'prod-k' }));
    expect(fromFile).toMatchObject({ source: 'file', file: pem, pair: { keyId: 'prod-k' } });
    expect(fromFile.pair.publicKey.equals(pair.publicKey)).toBe(true);
    expect(existsSync(path.join(dataDir, DEV_SIGNING_KEY_FILE))).toBe(false);
  });
});
