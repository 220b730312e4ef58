// Activities are plain async functions made by one factory from injected dependencies.
export interface ActivityDeps {
  /** Name of the Docker host this worker serves. */
  hostName: string;
}

export function createActivities(deps: ActivityDeps) {
  return {
    async ping(message: string): Promise<string> {
      return `pong from ${deps.hostName}: ${message}`;
    },
  };
}

export type Activities = ReturnType<typeof createActivities>;
