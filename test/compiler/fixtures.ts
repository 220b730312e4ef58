// Shared inputs for the compiler tests: a fixed Ed25519 key pair, the seed's programs and a compile helper.
import { compile, CompileResult } from '../../src/compiler';
import { parseSigningKey, TrustedKeys } from '../../src/signing/keys';

/** A fixed key pair (seed 00 11 22 … ff), so sealed test output is the same bytes on every run. */
export const TEST_KEY = parseSigningKey(`test-key:${Buffer.from('00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff', 'hex').toString('base64')}`);
export const TEST_TRUSTED_KEYS: TrustedKeys = new Map([[TEST_KEY.keyId, TEST_KEY.publicKey]]);
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
  return compile(source, context, { programId: 'test-program', optimize });
}

/** `WHEN c {} ELSE WHEN c {} …`: `links` WHENs on one line, each on `condition`, a directive in the last. */
export function elseWhenChain(condition: string, links: number): string {
  return `${`WHEN ${condition} {} ELSE `.repeat(links - 1)}WHEN ${condition} { OPTIMIZE_THROUGHPUT }`;
}
