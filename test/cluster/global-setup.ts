// Jest global setup of the cluster tier: `npm run cluster -- up` as an operator runs it (built by `npm run
// test:cluster`), in a scratch state folder and on ports of its own, so a cluster someone runs here is left alone.
import { chmodSync, existsSync, mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { clusterCommand, CLUSTER_TEST_PORT_BASE } from './support';

export default async function globalSetup(): Promise<void> {
  const stateDir = mkdtempSync(path.join(os.tmpdir(), 'oc-cluster-'));
  // PostgreSQL runs as the postgres user: it must be able to reach its data folder inside.
  chmodSync(stateDir, 0o755);
  process.env.OPENCLAW_CLUSTER_DIR = stateDir;
  process.env.OPENCLAW_CLUSTER_PORT_BASE ??= String(CLUSTER_TEST_PORT_BASE);
  if (!existsSync(path.resolve(__dirname, '..', '..', 'dist', 'scripts', 'cluster', 'main.js'))) {
    throw new Error('the cluster script is not built: run the cluster tests with `npm run test:cluster` (it builds first)');
  }
  const started = Date.now();
  try {
    await clusterCommand(['up']);
  } catch (err) {
    // Jest runs no global teardown after a failed setup: stop what came up, or it outlives the run.
    await clusterCommand(['down']).catch(() => undefined);
    throw err;
  }
  console.log(`\n[cluster tests] npm run cluster -- up took ${((Date.now() - started) / 1000).toFixed(1)} s (state ${stateDir})`);
}
