// Dev mode (OPENCLAW_INSECURE_DEV, no token configured): a random token written 0600 to the data directory, loopback
// only, Host checked against DNS rebinding, and the CLI on the same machine finds the token.
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { gatewayTarget } from '../../src/cli/gateway-client';
import type { CliIo } from '../../src/cli/io';
import { DevModeNotLoopbackError, RunningGateway, startGateway } from '../../src/runtime';
import { DEV_TOKEN_FILE } from '../../src/shared/dev-token';
import { createLogger } from '../../src/shared/logger';
import { testConfig, testTemporalAddress } from '../support/temporal';

const logger = createLogger({ level: 'error', component: 'dev-mode-test' });

/** A GET with a Host header of our choosing (fetch will not let us set one). */
function get(url: string, headers: Record<string, string>): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
  });
}

function ioWith(env: Record<string, string | undefined>): CliIo {
  const sink = { write: () => undefined };
  return { stdout: sink, stderr: sink, readFile: async () => '', readStdin: async () => '', trustedKeys: () => new Map(), env };
}

describe('dev mode', () => {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'openclaw-dev-mode-'));
  let gateway: RunningGateway;

  beforeAll(async () => {
    gateway = await startGateway({ config: testConfig({ OPENCLAW_DATA_DIR: dataDir, OPENCLAW_INSECURE_DEV: '1' }), temporalAddress: testTemporalAddress(), logger, port: 0 });
  });
  afterAll(async () => {
    await gateway?.stop();
  });

  it('generates a token, writes it mode 0600 to the data directory, and accepts only it', async () => {
    const file = path.join(dataDir, DEV_TOKEN_FILE);
    expect(gateway.devToken).toEqual({ token: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/), file });
    expect(readFileSync(file, 'utf8').trim()).toBe(gateway.devToken?.token);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const port = new URL(gateway.url).port;
    const host = `127.0.0.1:${port}`;
    expect((await get(`${gateway.url}/injections`, { Host: host })).status).toBe(401);
    expect((await get(`${gateway.url}/injections`, { Host: host, Authorization: `Bearer ${'x'.repeat(43)}` })).status).toBe(403);
    expect((await get(`${gateway.url}/injections`, { Host: host, Authorization: `Bearer ${gateway.devToken?.token}` })).status).toBe(200);
  });

  it('answers only Host localhost, 127.0.0.1 or [::1] with its port: a rebound name gets 421 HOST_NOT_ALLOWED', async () => {
    const port = new URL(gateway.url).port;
    const auth = { Authorization: `Bearer ${gateway.devToken?.token}` };
    for (const name of ['localhost', '127.0.0.1', '[::1]', 'LOCALHOST']) expect((await get(`${gateway.url}/livez`, { ...auth, Host: `${name}:${port}` })).status).toBe(200);
    for (const host of [`attacker.example:${port}`, 'localhost', `localhost:${Number(port) + 1}`, `127.0.0.1.nip.io:${port}`]) {
      const answer = await get(`${gateway.url}/injections`, { ...auth, Host: host });
      expect({ host, status: answer.status }).toEqual({ host, status: 421 });
      expect(JSON.parse(answer.body).error.code).toBe('HOST_NOT_ALLOWED');
    }
  });

  it('lets the CLI find the token for a loopback URL when none is given, and never for another host', () => {
    const token = gateway.devToken?.token;
    const env = { OPENCLAW_DATA_DIR: dataDir };
    expect(gatewayTarget({}, ioWith({ ...env, OPENCLAW_GATEWAY_URL: gateway.url })).token).toBe(token);
    expect(gatewayTarget({ url: 'http://localhost:7005' }, ioWith(env)).token).toBe(token);
    expect(gatewayTarget({ url: 'http://[::1]:7005' }, ioWith(env)).token).toBe(token);
    expect(gatewayTarget({ url: 'http://gateway.internal:7005' }, ioWith(env)).token).toBeUndefined();
    expect(gatewayTarget({ url: gateway.url }, ioWith({ ...env, OPENCLAW_API_TOKEN: 'e'.repeat(40) })).token).toBe('e'.repeat(40));
    expect(gatewayTarget({ url: gateway.url, token: 'f'.repeat(40) }, ioWith(env)).token).toBe('f'.repeat(40));
  });

  it('refuses to start on a non-loopback interface, saying why', async () => {
    const exposed = testConfig({ OPENCLAW_DATA_DIR: dataDir, OPENCLAW_INSECURE_DEV: '1', OPENCLAW_GATEWAY_HOST: '0.0.0.0' });
    const attempt = startGateway({ config: exposed, temporalAddress: testTemporalAddress(), logger, port: 0 });
    await expect(attempt).rejects.toThrow(DevModeNotLoopbackError);
    await expect(attempt).rejects.toThrow(/listens on loopback only, but OPENCLAW_GATEWAY_HOST is "0.0.0.0"/);
  });
});
