// Agent lookups shared by concurrent children: fewer list calls, never a stale answer, errors to every waiter.
import { batchedAgentLookup, MIN_SHARED_LOOKUP } from '../../src/docker/agent-identity';
import type { AgentRef } from '../../src/docker/types';

const ref = (agentId: string): AgentRef => ({ agentId, containerId: `c-${agentId}`, containerName: `openclaw-agent-${agentId}`, group: null, running: true });

describe('batchedAgentLookup', () => {
  test('lookups that arrive while a list is in flight share the next list, and each gets only its own agent', async () => {
    const calls: string[][] = [];
    let release: () => void = () => undefined;
    const list = async (ids: string[]) => {
      calls.push(ids);
      if (calls.length === 1) await new Promise<void>((resolve) => (release = resolve));
      return ids.map(ref);
    };
    const lookUp = batchedAgentLookup(list);
    const first = lookUp('a0');
    const rest = Array.from({ length: 40 }, (_, i) => lookUp(`a${i + 1}`));
    release();
    expect(await first).toEqual([ref('a0')]);
    const answers = await Promise.all(rest);
    answers.forEach((answer, i) => expect(answer).toEqual([ref(`a${i + 1}`)]));
    // One list for the first, one shared list for the 40 that queued behind it.
    expect(calls.map((c) => c.length)).toEqual([1, 40]);
  });

  test('a few queued lookups go one by one (the engine filters a single id), and a failed list fails its waiters', async () => {
    const calls: string[][] = [];
    let release: () => void = () => undefined;
    const lookUp = batchedAgentLookup(async (ids) => {
      calls.push(ids);
      if (calls.length === 1) await new Promise<void>((resolve) => (release = resolve));
      if (ids.includes('bad')) throw new Error('engine down');
      return ids.map(ref);
    });
    const first = lookUp('x');
    const few = Array.from({ length: MIN_SHARED_LOOKUP - 2 }, (_, i) => lookUp(`y${i}`));
    const failing = lookUp('bad');
    release();
    await first;
    await Promise.all(few);
    await expect(failing).rejects.toThrow('engine down');
    expect(calls.slice(1).every((c) => c.length === 1)).toBe(true);
  });
});
