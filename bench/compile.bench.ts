// Compile throughput for a typical program and a 64 KiB one, against JSON.parse of a same-size document.
import { compile } from '../src/compiler';
import type { Bench, BenchCase } from './harness';

export const TYPICAL_TARGET_PROGRAMS_PER_SEC = 5_000;
export const LARGE_PROGRAM_BYTES = 64 * 1024;

/** The seed's program plus a runtime branch and a context reference: what operators send. */
export const TYPICAL_PROGRAM = `# nightly cost pass
REDUCE_COSTS BY 15% {
  TARGET: optimization_agents
  DEADLINE: \${deadline}
  BUDGET: $1,250.50
  METRICS: latency, memory, cpu
}
WHEN agent.cpu > 80% {
  OPTIMIZE_THROUGHPUT BY 10%
}
`;
const CONTEXT = { deadline: '2h', budget: 500 };

/** A program of at least `bytes` bytes: many directives, WHEN blocks and arithmetic, no rollout conflicts. */
export function largeProgram(bytes: number): string {
  const parts = ['REDUCE_COSTS BY 15% { TARGET: optimization_agents; DEADLINE: 2h }'];
  let size = parts[0].length;
  for (let i = 0; size < bytes; i++) {
    const part =
      i % 3 === 0
        ? `REDUCE_COSTS BY ${i % 90}% + 5% {\n  BUDGET: $${i},000.50 * 10%\n  METRICS: latency, memory, cpu\n}`
        : i % 3 === 1
          ? `WHEN agent.memory_mb > ${i} and agent.cpu < ${i % 100}% {\n  SIMULATE_WORK BY ${1 + (i % 50)}s + 500ms\n} ELSE {\n  OPTIMIZE_THROUGHPUT BY ${i % 100}%\n}`
          : `SIMULATE_FAILURE { MESSAGE: "planned failure number ${i}" }  # comment ${i}`;
    parts.push(part);
    size += part.length + 1;
  }
  return parts.join('\n');
}

/** A JSON document of at least `bytes` bytes describing directives like the program's, for the baseline. */
export function jsonOfSize(bytes: number): string {
  const items: unknown[] = [];
  let text = '[]';
  for (let i = 0; text.length < bytes; i++) {
    items.push({ directive: 'REDUCE_COSTS', by: { percent: 15 }, params: { BUDGET: { money: 1250.5 }, METRICS: ['latency', 'memory', 'cpu'] }, line: i });
    text = JSON.stringify(items);
  }
  return text;
}

function compileCase(name: string, source: string, target?: number): BenchCase {
  const bytes = Buffer.byteLength(source);
  const json = jsonOfSize(bytes);
  const check = compile(source, CONTEXT, { programId: 'bench' });
  if (!check.ok) throw new Error(`bench program does not compile: ${check.diagnostics[0]?.message}`);
  return {
    name: `${name} (${bytes} B source, ${check.bytecode?.length} B bytecode; baseline ${json.length} B JSON)`,
    subject: () => compile(source, CONTEXT, { programId: 'bench' }),
    baseline: () => JSON.parse(json),
    targetOpsPerSec: target,
  };
}

export const compileBench: Bench = {
  name: 'compile',
  baseline: 'JSON.parse of a JSON document of about the same byte size, same run',
  cases: () => [compileCase('typical program', TYPICAL_PROGRAM, TYPICAL_TARGET_PROGRAMS_PER_SEC), compileCase('64 KiB program', largeProgram(LARGE_PROGRAM_BYTES))],
};
