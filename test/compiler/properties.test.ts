// Property tests: the compiler never throws or hangs, is deterministic, round-trips, and folding preserves meaning.
import fc from 'fast-check';
import { formatValue } from '../../src/bytecode/arith';
import { decodeContainer, decodeUnverified, encodeUnsignedProgram } from '../../src/bytecode/format';
import { Value, ValueTag } from '../../src/bytecode/instructions';
import { runProgram } from '../../src/bytecode/vm';
import { check } from '../../src/compiler/check';
import { DEFAULT_DIRECTIVES } from '../../src/compiler/catalogue';
import { generate } from '../../src/compiler/codegen';
import { parseProgram } from '../../src/compiler/grammar';
import { sealProgram } from '../../src/signing/seal';
import { createLocalSigner } from '../../src/signing/signer';
import { verifySignature } from '../../src/signing/verify';
import { compileTest, TEST_KEY, TEST_TRUSTED_KEYS } from './fixtures';

/** A compile of a bounded input that takes longer than this counts as a hang. */
const MAX_COMPILE_MS = 2_000;
const CONTEXT = { flag: true, deadline: '2h', budget: 500, env: 'staging', metrics: ['cpu', 'memory'] };

const percent = fc.integer({ min: 0, max: 100 }).map((n) => `${n}%`);
const percentExpr = fc.oneof(
  percent,
  fc.tuple(fc.integer({ min: 0, max: 50 }), fc.integer({ min: 0, max: 50 })).map(([a, b]) => `${a}% + ${b}%`),
  fc.integer({ min: 0, max: 50 }).map((a) => `${a}% * 2`),
  fc.integer({ min: 1, max: 100 }).map((a) => `(100% - ${a}%) / 2`),
);
const money = fc.oneof(
  fc.integer({ min: 0, max: 1_000_000 }).map((n) => `$${n}`),
  fc.constantFrom('$1,250.50', '$0.99', '$12,345,678', '${budget} * $1', '$500 * 10%'),
);
const duration = fc.oneof(
  fc.tuple(fc.integer({ min: 0, max: 2 }), fc.integer({ min: 0, max: 23 }), fc.integer({ min: 1, max: 59 })).map(([d, h, m]) => `${d > 0 ? `${d}d` : ''}${h > 0 ? `${h}h` : ''}${m}m`),
  fc.integer({ min: 1, max: 500 }).map((n) => `${n}ms`),
  fc.constantFrom('90s', '1h30m', '2h - 30m', '${deadline}', '10s * 3'),
);
const metrics = fc.oneof(fc.array(fc.constantFrom('latency', 'memory', 'cpu', 'p99-latency'), { minLength: 1, maxLength: 4 }).map((a) => a.join(', ')), fc.constant('${metrics}'));
const message = fc.string({ maxLength: 20 }).map((s) => JSON.stringify(s.replace(/[\u0000-\u001f\u007f-\uffff]/g, '')));

function block(entries: Array<[string, string] | null>, oneLine: boolean): string {
  const present = entries.filter((e): e is [string, string] => e !== null);
  if (present.length === 0) return '';
  return oneLine ? ` { ${present.map(([k, v]) => `${k}: ${v}`).join('; ')} }` : ` {\n${present.map(([k, v]) => `  ${k}: ${v}`).join('\n')}\n}`;
}
const opt = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: null });
const entry = (key: string, value: fc.Arbitrary<string>) => opt(value.map((v): [string, string] => [key, v]));

const directive = fc.oneof(
  fc.tuple(opt(percentExpr), entry('BUDGET', money), entry('METRICS', metrics), entry('DRY_RUN', fc.constantFrom('true', 'false')), fc.boolean()).map(
    ([by, ...rest]) => `REDUCE_COSTS${by ? ` BY ${by}` : ''}${block(rest.slice(0, 3) as Array<[string, string] | null>, rest[3] as boolean)}`,
  ),
  fc.tuple(opt(percentExpr), entry('METRICS', metrics), fc.boolean()).map(([by, m, one]) => `OPTIMIZE_THROUGHPUT${by ? ` BY ${by}` : ''}${block([m], one)}`),
  duration.map((d) => `SIMULATE_WORK BY ${d}`),
  opt(message).map((m) => `SIMULATE_FAILURE${block([m === null ? null : ['MESSAGE', m]], true)}`),
);

const condition = fc.oneof(
  percent.map((p) => `agent.cpu > ${p}`),
  fc.integer({ min: 0, max: 4096 }).map((n) => `agent.memory_mb >= ${n}`),
  fc.constantFrom('agent.group == "batch"', 'agent.uptime < 1h', '${flag}', 'not ${flag}', '${env} == production', '1 > 2', '$5 + $5 == $10', 'agent.agent_id != "a-1"'),
);
const conditionExpr = fc.oneof(condition, fc.tuple(condition, fc.constantFrom('and', 'or'), condition).map(([a, op, b]) => `${a} ${op} ${b}`));

const { statements } = fc.letrec<{ statements: string; statement: string }>((tie) => ({
  statement: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    directive,
    fc.tuple(conditionExpr, tie('statements'), opt(tie('statements'))).map(([c, t, e]) => `WHEN ${c} {\n${t}\n}${e === null ? '' : ` ELSE {\n${e}\n}`}`),
  ),
  statements: fc.array(tie('statement'), { minLength: 1, maxLength: 4 }).map((s) => s.join('\n')),
}));

/** Rollout keys, at most once each so the program never conflicts with itself. */
const rolloutHeader = fc
  .record({ DEADLINE: opt(fc.constantFrom('30m', '2h', '7d')), MAX_PARALLEL: opt(fc.integer({ min: 1, max: 1000 })), CANARY: opt(fc.constantFrom('0', '3', '10%')) })
  .map((r) => `OPTIMIZE_THROUGHPUT${block(Object.entries(r).map(([k, v]) => (v === null ? null : [k, String(v)])), false)}`);

const validProgram = fc.tuple(rolloutHeader, statements).map(([header, body]) => `# generated\n${header}\n\n${body}\n`);

/** Edits that keep the text near-valid: the cases a parser is most likely to mishandle. */
const mutatedProgram = fc
  .tuple(validProgram, fc.array(fc.tuple(fc.nat(), fc.nat({ max: 8 }), fc.constantFrom('', '{', '}', '(', ')', '$', '%', '"', ',', ':', '\n', ' ', '#', 'WHEN ', '${', 'agent.', '-', '1', 'h', '\\', '__proto__')), { maxLength: 4 }))
  .map(([source, edits]) =>
    edits.reduce((text, [at, remove, insert]) => {
      const i = at % (text.length + 1);
      return text.slice(0, i) + insert + text.slice(i + remove);
    }, source),
  );

function timedCompile(source: string, context: Record<string, unknown> = CONTEXT, optimize = true) {
  const started = performance.now();
  const result = compileTest(source, context, optimize);
  expect(performance.now() - started).toBeLessThan(MAX_COMPILE_MS);
  return result;
}

function expectWellFormed(source: string, result: ReturnType<typeof compileTest>): void {
  expect(result.ok).toBe(!result.diagnostics.some((d) => d.severity === 'error'));
  expect(result.ok).toBe(result.bytecode !== null);
  expect(result.diagnostics.map((d) => d.code)).not.toContain('INTERNAL_ERROR');
  const lines = source.split('\n').length;
  for (const d of result.diagnostics) {
    expect(d.line).toBeGreaterThanOrEqual(1);
    expect(d.line).toBeLessThanOrEqual(lines);
    expect(d.column).toBeGreaterThanOrEqual(1);
    expect(d.offset).toBeLessThanOrEqual(source.length);
  }
}

describe('compiler properties', () => {
  it('a source that names an Object.prototype key leaves the prototype alone (Parsimmon caches by input)', () => {
    for (const source of ['__proto__', 'constructor', 'toString', 'hasOwnProperty', '__proto__ BY 5%']) {
      compileTest(source, { __proto__: 1 } as Record<string, unknown>);
    }
    expect(Object.getOwnPropertyNames(Object.prototype).filter((n) => /^\d+$/.test(n))).toEqual([]);
    expect(0 in {}).toBe(false);
  });

  it('never throws and never hangs on arbitrary text, and answers with positioned diagnostics', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 300 }), fc.string({ unit: 'binary', maxLength: 100 }), fc.string({ unit: fc.constantFrom(...'WHEN{}()$%"#,:\n -1hBY'.split('')), maxLength: 200 })), (source) => {
        expectWellFormed(source, timedCompile(source));
      }),
      { numRuns: 500 },
    );
  });

  it('never throws on arbitrary context values', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.constantFrom('deadline', 'budget', 'canary', 'x', '__proto__', 'constructor'), fc.jsonValue({ maxDepth: 2 })), (context) => {
        const result = timedCompile('REDUCE_COSTS BY 15% { BUDGET: ${x} }\nOPTIMIZE_THROUGHPUT', context);
        expectWellFormed('REDUCE_COSTS BY 15% { BUDGET: ${x} }\nOPTIMIZE_THROUGHPUT', result);
      }),
      { numRuns: 300 },
    );
  });

  it('generated valid programs compile, and twice give identical bytes', () => {
    fc.assert(
      fc.property(validProgram, (source) => {
        const first = timedCompile(source);
        expect(first.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
        const second = timedCompile(source);
        expect(second.bytecode?.equals(first.bytecode as Buffer)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('mutated programs never throw or hang, and every diagnostic points into the source', () => {
    fc.assert(
      fc.property(mutatedProgram, (source) => {
        expectWellFormed(source, timedCompile(source));
      }),
      { numRuns: 500 },
    );
  });

  it('reading the bytecode back gives the instructions and constants that were written, unsigned and sealed', async () => {
    const envelope = { reloadId: 'r-1', target: { kind: 'agent' as const, name: 'agent-1' }, notAfterMs: 1_900_000_000_000, sequence: 7 };
    await fc.assert(
      fc.asyncProperty(validProgram, fc.boolean(), async (source, optimize) => {
        const parsed = parseProgram(source);
        if (!parsed.ok) throw new Error('generated program did not parse');
        const checked = check(parsed.program.statements, CONTEXT, DEFAULT_DIRECTIVES, optimize);
        const { body } = generate('test-program', checked.statements);
        const bytes = encodeUnsignedProgram(body);
        const decoded = decodeUnverified(bytes);
        expect({ programId: decoded.programId, constants: decoded.constants, instructions: decoded.instructions }).toEqual(body);
        const sealed = await sealProgram(decoded.container.body, envelope, createLocalSigner(TEST_KEY));
        const opened = decodeContainer(verifySignature(sealed, TEST_TRUSTED_KEYS));
        expect({ programId: opened.programId, constants: opened.constants, instructions: opened.instructions }).toEqual(body);
        // Ed25519 is deterministic: the same body and envelope always seal to the same bytes.
        expect((await sealProgram(opened.container.body, envelope, createLocalSigner(TEST_KEY))).equals(sealed)).toBe(true);
      }),
      { numRuns: 200 },
    );
  });

  it('folding and dead-branch removal never change what the agent runs', async () => {
    const agentVariables = fc.record({
      agent_id: fc.constantFrom('a-1', 'a-2'),
      group: fc.constantFrom('batch', 'web'),
      cpu: fc.integer({ min: 0, max: 100 }),
      memory_mb: fc.integer({ min: 0, max: 8192 }),
      uptime: fc.integer({ min: 1, max: 7_200_000 }),
    });
    await fc.assert(
      fc.asyncProperty(validProgram, agentVariables, async (source, vars) => {
        const optimized = timedCompile(source, CONTEXT, true);
        const plain = timedCompile(source, CONTEXT, false);
        const [a, b] = await Promise.all([runAndRecord(optimized.bytecode as Buffer, vars), runAndRecord(plain.bytecode as Buffer, vars)]);
        expect(a).toEqual(b);
        expect(optimized.bytecode!.length).toBeLessThanOrEqual(plain.bytecode!.length);
      }),
      { numRuns: 150 },
    );
  });
});

async function runAndRecord(bytes: Buffer, vars: { agent_id: string; group: string; cpu: number; memory_mb: number; uptime: number }): Promise<string[]> {
  const values: Record<string, Value> = {
    agent_id: { tag: ValueTag.String, value: vars.agent_id },
    group: { tag: ValueTag.String, value: vars.group },
    cpu: { tag: ValueTag.Percent, value: vars.cpu },
    memory_mb: { tag: ValueTag.Number, value: vars.memory_mb },
    uptime: { tag: ValueTag.Duration, value: vars.uptime },
  };
  const calls: string[] = [];
  const decoded = decodeUnverified(bytes);
  await runProgram({ programId: decoded.programId ?? '', constants: decoded.constants, instructions: decoded.instructions }, {
    variable: (name) => values[name],
    handler: () => (call) => {
      calls.push(`${call.name} ${call.amount ? formatValue(call.amount) : '-'} ${JSON.stringify(Object.entries(call.params).map(([k, v]) => [k, formatValue(v)]))}`);
    },
  });
  return calls;
}
