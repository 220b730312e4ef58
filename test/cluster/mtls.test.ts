// The cluster's frontend requires mutual TLS: a client that shows no certificate, or one from another CA, or that
// speaks plaintext, is refused; the injector's own settings (TEMPORAL_TLS_*) with the cluster's client certificate get in.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { promisify } from 'node:util';
import os from 'node:os';
import path from 'node:path';
import { Connection, TLSConfig } from '@temporalio/client';
import { certificatePaths, ensureCertificates } from '../../scripts/cluster/certs';
import { FRONTEND_SERVER_NAME } from '../../scripts/cluster/settings';
import { temporalCliArgs, temporalCliPath } from '../../scripts/cluster/temporal';
import { loadConfig } from '../../src/config';
import { temporalTlsOptions } from '../../src/temporal/tls';
import { testCluster } from './support';

const CONNECT_TIMEOUT_MS = 5_000;
const CLI_TIMEOUT_MS = 30_000;
/** What the SDK says when the TLS handshake never completes: the frontend ends it, the SDK retries until its deadline. */
const REFUSED = 'Failed to connect before the deadline';
const cluster = testCluster();

/** Connects and asks the frontend one question; the SDK's own connect already calls GetSystemInfo. */
async function systemInfo(tls: TLSConfig | undefined): Promise<string> {
  const connection = await Connection.connect({ address: cluster.frontendAddress, tls, connectTimeout: CONNECT_TIMEOUT_MS });
  try {
    const info = await connection.workflowService.getSystemInfo({});
    return info.serverVersion ?? '';
  } finally {
    await connection.close();
  }
}

function injectorTls(env: Record<string, string>) {
  return temporalTlsOptions(loadConfig({ TEMPORAL_ADDRESS: cluster.frontendAddress, ...env }).temporalTls);
}

describe('the cluster frontend (mTLS required)', () => {
  let foreignDir: string;
  beforeAll(async () => {
    foreignDir = mkdtempSync(path.join(os.tmpdir(), 'oc-foreign-ca-'));
    await ensureCertificates(foreignDir);
  });
  afterAll(() => rmSync(foreignDir, { recursive: true, force: true }));

  it("lets the injector in with its TEMPORAL_TLS_* settings and the cluster's client certificate", async () => {
    const client = cluster.certs.clients['injector-worker'];
    const version = await systemInfo(injectorTls({ TEMPORAL_TLS_CA: cluster.certs.ca, TEMPORAL_TLS_CERT: client.cert, TEMPORAL_TLS_KEY: client.key, TEMPORAL_TLS_SERVER_NAME: FRONTEND_SERVER_NAME }));
    expect(version).toBe('1.32.2');
  });

  it('refuses a client that trusts the cluster CA but shows no certificate', async () => {
    await expect(systemInfo(injectorTls({ TEMPORAL_TLS_CA: cluster.certs.ca, TEMPORAL_TLS_SERVER_NAME: FRONTEND_SERVER_NAME }))).rejects.toThrow(REFUSED);
  });

  it('refuses a client certificate signed by another CA', async () => {
    const foreign = certificatePaths(foreignDir).clients['injector-worker'];
    await expect(
      systemInfo(injectorTls({ TEMPORAL_TLS_CA: cluster.certs.ca, TEMPORAL_TLS_CERT: foreign.cert, TEMPORAL_TLS_KEY: foreign.key, TEMPORAL_TLS_SERVER_NAME: FRONTEND_SERVER_NAME })),
    ).rejects.toThrow(REFUSED);
  });

  it('refuses plaintext', async () => {
    await expect(systemInfo(undefined)).rejects.toThrow(REFUSED);
  });

  it("is not trusted by a client that does not know the cluster's CA", async () => {
    const foreign = certificatePaths(foreignDir);
    const client = cluster.certs.clients['injector-worker'];
    await expect(systemInfo(injectorTls({ TEMPORAL_TLS_CA: foreign.ca, TEMPORAL_TLS_CERT: client.cert, TEMPORAL_TLS_KEY: client.key, TEMPORAL_TLS_SERVER_NAME: FRONTEND_SERVER_NAME }))).rejects.toThrow(REFUSED);
  });

  describe('through the temporal CLI', () => {
    const cli = async (args: string[]) =>
      promisify(execFile)(temporalCliPath(cluster.settings), args, { timeout: CLI_TIMEOUT_MS }).then(
        ({ stdout }) => ({ ok: true, output: stdout }),
        (err: { stdout?: string; stderr?: string }) => ({ ok: false, output: `${err.stdout ?? ''}${err.stderr ?? ''}` }),
      );

    it("answers the operator's CLI with the cluster's CLI certificate", async () => {
      const result = await cli(temporalCliArgs(cluster.settings, cluster.certs, ['operator', 'cluster', 'health']));
      expect(result).toEqual({ ok: true, output: expect.stringContaining('SERVING') });
    });

    it('tells a CLI without a client certificate that the server requires one', async () => {
      const args = ['operator', 'cluster', 'health', '--address', cluster.frontendAddress, '--tls-ca-path', cluster.certs.ca, '--tls-server-name', FRONTEND_SERVER_NAME];
      expect(await cli(args)).toEqual({ ok: false, output: expect.stringContaining('requires client certificates (mTLS)') });
    });
  });
});
