// Task queue names, in one place: one queue for workflows and Docker-free activities, one per Docker host.

/** Workflows, and activities that touch no Docker engine (compile), run here. */
export function mainTaskQueue(base: string): string {
  return base;
}

/** Activities that touch the Docker engine of `hostName` run on that host's own queue, polled only by its worker. */
export function dockerHostTaskQueue(base: string, hostName: string): string {
  return `${base}-docker-${hostName}`;
}
