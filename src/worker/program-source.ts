// Programs by reference, the fetching side: an activity asks the injection's holder workflow for the program bytes
// (a query: no event, no copy in any history), checks their sha256, and keeps a few in memory for the other agents.
import { createHash } from 'node:crypto';
import type { Client } from '@temporalio/client';
import type { ProgramSource } from '../../activities/docker-activities';
import type { ProgramRef } from '../shared/injection-types';
import { programQuery } from '../contracts/messages';

/** Program bytes kept per worker process, in all; the oldest are dropped first. */
export const PROGRAM_CACHE_BYTES = 64 * 1024 * 1024;

export class ProgramFetchError extends Error {
  constructor(
    readonly code: 'PROGRAM_CORRUPTED',
    message: string,
  ) {
    super(message);
    this.name = 'ProgramFetchError';
  }
}

export function createProgramSource(client: Client, cacheBytes = PROGRAM_CACHE_BYTES): ProgramSource {
  // Insertion order is age: a Map iterates oldest first. One fetch per program, however many agents ask at once.
  const cache = new Map<string, Promise<Buffer>>();
  const sizes = new Map<string, number>();
  let held = 0;
  const evict = () => {
    for (const [sha256] of cache) {
      if (held <= cacheBytes || cache.size <= 1) break;
      held -= sizes.get(sha256) ?? 0;
      sizes.delete(sha256);
      cache.delete(sha256);
    }
  };
  return {
    get(ref: ProgramRef): Promise<Buffer> {
      const hit = cache.get(ref.sha256);
      if (hit) return hit;
      const fetched = client.workflow
        .getHandle(ref.holderWorkflowId)
        .query(programQuery)
        .then((bytes) => {
          const program = Buffer.from(bytes);
          const actual = createHash('sha256').update(program).digest('hex');
          if (actual !== ref.sha256) throw new ProgramFetchError('PROGRAM_CORRUPTED', `${ref.holderWorkflowId} holds bytes hashing to ${actual}, expected ${ref.sha256}`);
          sizes.set(ref.sha256, program.length);
          held += program.length;
          evict();
          return program;
        });
      cache.set(ref.sha256, fetched);
      fetched.catch(() => {
        if (cache.get(ref.sha256) === fetched) cache.delete(ref.sha256);
      });
      return fetched;
    },
  };
}
