// Helpers the workflow and fault tests share around one swarm: agent ids, what an agent runs (read from the agent),
// a known program to start from, and a bound on how long an injection may take to end.
import type { AgentChannel, AgentRef } from '../../src/docker';
import type { TestInjector } from './injector';

export const agentIds = (refs: AgentRef[]): string[] => refs.map((a) => a.agentId);

/** The program id the agent's CURRENT names (null: none), read from the container. */
export async function programOf(channel: AgentChannel, agent: AgentRef): Promise<string | null> {
  return (await channel.current(agent.containerId))?.programId ?? null;
}

/**
 * Puts the agents on a known program first, so "rolled back" has something to go back to; answers its injection id.
 * `work`: how long the program runs (and so how long restoring it takes); default a directive of a few milliseconds.
 */
export async function baseline(injector: TestInjector, refs: AgentRef[], tag: string, options: { work?: string } = {}): Promise<string> {
  const injectionId = `base-${tag}-${Date.now()}`;
  const directive = options.work ? `SIMULATE_WORK BY ${options.work}` : 'OPTIMIZE_THROUGHPUT';
  const result = await injector.runSwarm({ injectionId, source: `${directive} {\n  MAX_PARALLEL: 20\n  CANARY: 0\n}`, targets: { agentIds: agentIds(refs) } });
  expect(result.status).toBe('succeeded');
  return injectionId;
}

/** Resolves as `promise` does, or rejects when it has not settled within `boundMs` (a stop that hangs). */
export function endsWithin<T>(promise: Promise<T>, boundMs: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const bound = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${boundMs} ms`)), boundMs);
  });
  return Promise.race([promise, bound]).finally(() => clearTimeout(timer));
}
