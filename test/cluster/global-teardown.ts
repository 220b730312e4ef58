// Jest global teardown of the cluster tier: `npm run cluster -- down`, then the scratch state folder goes.
import { rmSync } from 'node:fs';
import { clusterCommand } from './support';

export default async function globalTeardown(): Promise<void> {
  await clusterCommand(['down']);
  const stateDir = process.env.OPENCLAW_CLUSTER_DIR;
  if (stateDir) rmSync(stateDir, { recursive: true, force: true, maxRetries: 3 });
}
