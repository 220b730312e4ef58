// The floor's one activity: does nothing, so what the floor measures is Temporal's own cost per child.
export function createFloorActivities() {
  return {
    async noop(agent: number): Promise<number> {
      return agent;
    },
  };
}
