// The injector's TLS settings for its Temporal connection (TEMPORAL_TLS_*): validated at start-up, read into the SDK's
// TLS options at connect time. The cluster tests (test/cluster/mtls.test.ts) use them against a real mTLS frontend.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../src/config';
import { temporalTlsOptions, TemporalTlsError } from '../../src/temporal/tls';

const ADDRESS = { TEMPORAL_ADDRESS: 'temporal.internal:7233' };
const PEM = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';

describe('Temporal TLS settings', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'oc-tls-'));
    for (const name of ['ca.pem', 'client.pem', 'client.key']) writeFileSync(path.join(dir, name), PEM);
    writeFileSync(path.join(dir, 'not-pem.txt'), 'hello');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('are off by default: the connection is plaintext, as the embedded dev server speaks', () => {
    expect(loadConfig({}).temporalTls).toBeUndefined();
    expect(temporalTlsOptions(loadConfig(ADDRESS).temporalTls)).toBeUndefined();
  });

  it('read the CA, the client pair and the server name, with paths relative to the working directory', () => {
    const config = loadConfig({ ...ADDRESS, TEMPORAL_TLS_CA: 'certs/ca.pem', TEMPORAL_TLS_CERT: '/etc/oc/client.pem', TEMPORAL_TLS_KEY: '/etc/oc/client.key', TEMPORAL_TLS_SERVER_NAME: 'frontend.temporal.internal' }, '/srv/oc');
    expect(config.temporalTls).toEqual({ caFile: '/srv/oc/certs/ca.pem', certFile: '/etc/oc/client.pem', keyFile: '/etc/oc/client.key', serverName: 'frontend.temporal.internal' });
  });

  it('TEMPORAL_TLS=1 alone turns TLS on with the system roots and no client certificate', () => {
    expect(loadConfig({ ...ADDRESS, TEMPORAL_TLS: '1' }).temporalTls).toEqual({ caFile: undefined, certFile: undefined, keyFile: undefined, serverName: undefined });
    expect(temporalTlsOptions(loadConfig({ ...ADDRESS, TEMPORAL_TLS: '1' }).temporalTls)).toEqual({ serverNameOverride: undefined, serverRootCACertificate: undefined, clientCertPair: undefined });
  });

  it('refuse a certificate without its key, TLS without a Temporal address, and a bad server name, naming each', () => {
    expect(() => loadConfig({ ...ADDRESS, TEMPORAL_TLS_CERT: 'client.pem' })).toThrow('TEMPORAL_TLS_CERT and TEMPORAL_TLS_KEY go together: set both (mTLS) or neither');
    expect(() => loadConfig({ TEMPORAL_TLS_CA: 'ca.pem' })).toThrow('TEMPORAL_TLS settings need TEMPORAL_ADDRESS: the embedded dev server speaks plaintext only');
    expect(() => loadConfig({ ...ADDRESS, TEMPORAL_TLS_SERVER_NAME: 'bad name' })).toThrow('TEMPORAL_TLS_SERVER_NAME="bad name": expected a DNS name');
  });

  it('are read into the SDK options at connect time: the PEM bytes, the pair and the name', () => {
    const tls = temporalTlsOptions(
      loadConfig({ ...ADDRESS, TEMPORAL_TLS_CA: 'ca.pem', TEMPORAL_TLS_CERT: 'client.pem', TEMPORAL_TLS_KEY: 'client.key', TEMPORAL_TLS_SERVER_NAME: 'frontend.temporal.internal' }, dir).temporalTls,
    );
    expect(tls).toEqual({ serverNameOverride: 'frontend.temporal.internal', serverRootCACertificate: Buffer.from(PEM), clientCertPair: { crt: Buffer.from(PEM), key: Buffer.from(PEM) } });
  });

  it('fail with a typed error naming the variable when a file is missing or holds no PEM', () => {
    const read = (file: string) => () => temporalTlsOptions(loadConfig({ ...ADDRESS, TEMPORAL_TLS_CA: file }, dir).temporalTls);
    expect(read('missing.pem')).toThrow(expect.objectContaining({ name: 'TemporalTlsError', code: 'TLS_FILE_UNREADABLE', variable: 'TEMPORAL_TLS_CA' }));
    expect(read('not-pem.txt')).toThrow(TemporalTlsError);
    expect(read('not-pem.txt')).toThrow(`TEMPORAL_TLS_CA: ${path.join(dir, 'not-pem.txt')} holds no PEM block`);
  });
});
