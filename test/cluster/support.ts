// What the cluster tests share: the cluster script run as a user runs it, and the settings, certificates and secrets
// of the cluster that the global setup brought up (found through the same environment variables).
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import type { InjectionView } from '../../src/gateway/injection-service';
import { certificatePaths } from '../../scripts/cluster/certs';
import { clusterPaths, ClusterSettings, loadClusterSettings } from '../../scripts/cluster/settings';
import { clusterSigningKeyText } from '../../scripts/cluster/injector';
import { parseSigningKey } from '../../src/signing/keys';

/** Away from the script's own default (17000) and from the dev server's 7233, so a running cluster is left alone. */
export const CLUSTER_TEST_PORT_BASE = 27_000;
/** A cold `up` builds the Temporal server (minutes); a warm one takes seconds. */
export const CLUSTER_UP_TIMEOUT_MS = 45 * 60_000;
const CLUSTER_OUTPUT_MAX_BYTES = 16 * 1024 * 1024;
const ROOT = path.resolve(__dirname, '..', '..');

/** `node dist/scripts/cluster/main.js <args>` (what `npm run cluster -- <args>` runs after building); its output is echoed. */
export async function clusterCommand(args: string[]): Promise<string> {
  try {
    const { stdout } = await promisify(execFile)(process.execPath, [path.join(ROOT, 'dist', 'scripts', 'cluster', 'main.js'), ...args], {
      cwd: ROOT,
      env: process.env,
      timeout: CLUSTER_UP_TIMEOUT_MS,
      maxBuffer: CLUSTER_OUTPUT_MAX_BYTES,
    });
    process.stdout.write(stdout);
    return stdout;
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string };
    throw new Error(`cluster ${args.join(' ')} failed:\n${e.stdout ?? ''}${e.stderr ?? ''}`, { cause: err });
  }
}

export function testCluster() {
  const settings: ClusterSettings = loadClusterSettings(process.env);
  const paths = clusterPaths(settings);
  const certs = certificatePaths(paths.certsDir);
  const secret = (name: string) => readFileSync(path.join(paths.secretsDir, name), 'utf8').trim();
  return {
    settings,
    paths,
    certs,
    frontendAddress: `127.0.0.1:${settings.ports.frontendGrpc}`,
    gatewayUrl: `http://127.0.0.1:${settings.ports.gateway}`,
    apiToken: secret('api-token'),
    signingKey: parseSigningKey(clusterSigningKeyText(secret('signing-key'))),
  };
}

const INJECTION_DONE_TIMEOUT_MS = 180_000;
const POLL_INTERVAL_MS = 250;

/** A gateway call with the cluster's API token, as `openclaw` or curl makes it. */
export async function gatewayRequest(method: string, route: string, body?: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  const cluster = testCluster();
  const response = await fetch(cluster.gatewayUrl + route, {
    method,
    headers: { Authorization: `Bearer ${cluster.apiToken}`, ...(body === undefined ? {} : { 'Content-Type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

/** Polls GET /injections/:id until the injection has ended; a gateway that is briefly unavailable (a fault test) is waited for. */
export async function untilDone(injectionId: string, timeoutMs = INJECTION_DONE_TIMEOUT_MS): Promise<InjectionView> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const answer = await gatewayRequest('GET', `/injections/${injectionId}?limit=500`).catch(() => undefined);
    if (answer?.status === 200 && (answer.body as unknown as InjectionView).done) return answer.body as unknown as InjectionView;
    if (Date.now() > deadline) throw new Error(`injection ${injectionId} did not end within ${timeoutMs} ms (last answer: ${JSON.stringify(answer?.body ?? null).slice(0, 500)})`);
    await new Promise((resolve) => setTimeout(resolve, POLL_INTERVAL_MS));
  }
}
