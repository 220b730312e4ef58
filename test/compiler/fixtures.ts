// Shared inputs for the compiler tests: a fixed key, the seed's programs and a compile helper.
import { compile, CompileResult } from '../../src/compiler';

export const TEST_KEY = Buffer.from('00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff', 'hex');
export const SEED_CONTEXT = { deadline: '2h', budget: 500 };

/** The programs the seed sends, exactly as written there. */
export const SEED_PROGRAMS = {
  reduce: 'REDUCE_COSTS BY 15%',
  optimize: 'OPTIMIZE_THROUGHPUT',
  full: `REDUCE_COSTS BY 15% {
  TARGET: optimization_agents
  DEADLINE: 2h
  BUDGET: $500
  METRICS: latency, memory, cpu
}`,
};

export function compileTest(source: string, context?: Record<string, unknown>, optimize = true): CompileResult {
  return compile(source, context, { programId: 'test-program', signingKey: TEST_KEY, optimize });
}

/** `WHEN c {} ELSE WHEN c {} …`: `links` WHENs on one line, each on `condition`, a directive in the last. */
export function elseWhenChain(condition: string, links: number): string {
  return `${`WHEN ${condition} {} ELSE `.repeat(links - 1)}WHEN ${condition} { OPTIMIZE_THROUGHPUT }`;
}
