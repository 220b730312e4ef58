// A trivial round trip through the worker: proves workflow and activity plumbing (used by /health checks and tests).
import { proxyActivities } from '@temporalio/workflow';
import type { createActivities } from '../activities';
import { PING_ACTIVITY_TIMEOUT } from '../src/shared/timeouts';

const { ping } = proxyActivities<ReturnType<typeof createActivities>>({ startToCloseTimeout: PING_ACTIVITY_TIMEOUT });

export async function pingWorkflow(message: string): Promise<string> {
  return await ping(message);
}
