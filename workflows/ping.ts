// A round trip through both task queues: proves the workflow, main-queue and Docker-host-queue plumbing.
import { proxyActivities } from '@temporalio/workflow';
import type { DockerActivities, InjectorActivities } from '../activities';
import { PING_ACTIVITY_TIMEOUT } from '../src/shared/timeouts';

export interface PingResult {
  reply: string;
  dockerHost: string;
  dockerVersion: string;
}

export async function pingWorkflow(message: string, dockerTaskQueue: string): Promise<PingResult> {
  const { ping } = proxyActivities<InjectorActivities>({ startToCloseTimeout: PING_ACTIVITY_TIMEOUT });
  const { dockerVersion } = proxyActivities<DockerActivities>({ startToCloseTimeout: PING_ACTIVITY_TIMEOUT, taskQueue: dockerTaskQueue });
  const reply = await ping(message);
  const docker = await dockerVersion();
  return { reply, dockerHost: docker.host, dockerVersion: docker.version };
}
