// 120,000 hostile DSL programs: valid programs mutated at the byte and token level (a seeded generator, so a failure
// replays), plus token soup and pathological nesting. The compiler never throws and never hangs on any of them: each
// answer is diagnostics with positions inside the source, or bytecode that verifies under the key.
import { decodeUnverified } from '../../src/bytecode/format';
import { compile, MAX_SOURCE_BYTES } from '../../src/compiler';
import { SEED_CONTEXT, SEED_PROGRAMS } from '../compiler/fixtures';

const PROGRAM_COUNT = 120_000;
/** One compile slower than this counts as a hang (the slowest seen on the 2-core CI machine is far below it). */
const MAX_COMPILE_MS = 1_000;
const SEED = 0x0c1a_3e11;

const CORPUS = [
  ...Object.values(SEED_PROGRAMS),
  'SIMULATE_WORK BY 1s {\n  MAX_PARALLEL: 4\n  CANARY: 10%\n  RETRIES: 6\n  MAX_FAILURES: 5\n  TRACE_TIMEOUT: 30s\n}',
  'WHEN agent.cpu > 80% and agent.memory_mb >= 512 {\n  OPTIMIZE_THROUGHPUT BY 100% - agent.cpu\n} ELSE WHEN agent.group == "batch" {\n  SIMULATE_WORK BY 2h - 30m\n} ELSE {\n  SIMULATE_FAILURE { MESSAGE: "no" }\n}',
  'REDUCE_COSTS BY ${budget} * 1% { BUDGET: $1,250.50; METRICS: latency, memory }\n# a comment\nOPTIMIZE_THROUGHPUT { DEADLINE: ${deadline} }',
  'WHEN not (agent.uptime < 1h or agent.agent_id == "a-1") {\n  REDUCE_COSTS BY (50% + 10%) / 2\n}',
];
/** Tokens spliced into programs: keywords, operators, units, and text an attacker would try. */
const TOKENS = [
  'WHEN', 'ELSE', 'BY', 'and', 'or', 'not', 'true', 'false', '{', '}', '(', ')', '[', ']', ':', ';', ',', '==', '!=', '>=', '<', '+', '-', '*', '/',
  '%', '$', '${', '${budget}', '${__proto__}', '${constructor}', 'agent.', 'agent.cpu', 'agent.__proto__', '"', '"unterminated', '#', '\n', '\r\n', '\t',
  '1e309', '-0', '99999999999999999999', '0.0000001', '1s', '1ms', '7d', '1h30m', '100%', '$0.99', 'MAX_PARALLEL:', 'DEADLINE:', 'TARGET:', 'CANARY: 200%',
  'REDUCE_COSTS', 'TELEPORT', '$(reboot)', '`id`', '../../etc/passwd', '\u0000', '\u202e', '𝔘', '\ud800', 'ÄÖÜ', '\\', "'",
];

/** mulberry32: small, fast, seeded. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function mutate(source: string, random: () => number): string {
  const pick = <T>(items: readonly T[]) => items[Math.floor(random() * items.length)];
  const at = () => Math.floor(random() * (source.length + 1));
  let out = source;
  const edits = 1 + Math.floor(random() * 4);
  for (let i = 0; i < edits; i++) {
    const p = Math.min(at(), out.length);
    switch (Math.floor(random() * 7)) {
      case 0: out = out.slice(0, p) + out.slice(p + 1 + Math.floor(random() * 8)); break; // delete a run
      case 1: out = out.slice(0, p) + pick(TOKENS) + out.slice(p); break; // insert a token
      case 2: out = out.slice(0, p) + String.fromCharCode(Math.floor(random() * 0x10000)) + out.slice(p + 1); break; // replace a char
      case 3: out = out.slice(0, p) + out.slice(p, p + 20).repeat(1 + Math.floor(random() * 5)) + out.slice(p); break; // duplicate a run
      case 4: out = out.slice(0, p); break; // truncate
      case 5: out = out.slice(0, p) + pick(CORPUS) + out.slice(p); break; // splice another program in
      default: out = out.slice(0, p) + pick(TOKENS) + ' ' + pick(TOKENS) + out.slice(p); break;
    }
  }
  return out;
}

function tokenSoup(random: () => number): string {
  const count = 1 + Math.floor(random() * 40);
  let out = '';
  for (let i = 0; i < count; i++) out += TOKENS[Math.floor(random() * TOKENS.length)] + (random() < 0.7 ? ' ' : '');
  return out;
}

/** Nesting and length at and past the compiler's bounds. */
function pathological(n: number): string {
  const depth = 1 + (n % 80);
  switch (n % 5) {
    case 0: return `${'WHEN true {\n'.repeat(depth)}REDUCE_COSTS BY 1%\n${'}\n'.repeat(depth)}`;
    case 1: return `REDUCE_COSTS BY ${'('.repeat(depth)}1%${')'.repeat(depth)}`;
    case 2: return `REDUCE_COSTS BY ${Array.from({ length: depth * 4 }, () => '1%').join(' + ')}`;
    case 3: return `REDUCE_COSTS { METRICS: ${Array.from({ length: depth * 5 }, (_, i) => `m${i}`).join(', ')} }`;
    default: return `${'('.repeat(depth * 10)}`;
  }
}

it(`${PROGRAM_COUNT} mutated, generated and pathological programs: only diagnostics, never a throw or a hang`, () => {
  const random = prng(SEED);
  const started = Date.now();
  let slowest = 0;
  let compiled = 0;
  let refused = 0;
  const problems: string[] = [];
  for (let n = 0; n < PROGRAM_COUNT && problems.length < 5; n++) {
    const kind = n % 20;
    const source = kind < 16 ? mutate(CORPUS[n % CORPUS.length], random) : kind < 19 ? tokenSoup(random) : pathological(n);
    const t0 = performance.now();
    let result: ReturnType<typeof compile>;
    try {
      result = compile(source, SEED_CONTEXT, { programId: `fuzz-${n}` });
    } catch (err) {
      problems.push(`#${n} threw ${String(err)} on ${JSON.stringify(source.slice(0, 200))}`);
      continue;
    }
    const ms = performance.now() - t0;
    slowest = Math.max(slowest, ms);
    if (ms > MAX_COMPILE_MS) problems.push(`#${n} took ${ms.toFixed(0)} ms on ${JSON.stringify(source.slice(0, 200))}`);
    if (result.ok) {
      compiled += 1;
      try {
        const decoded = decodeUnverified(result.bytecode!);
        if (!decoded.container.unsigned) problems.push(`#${n} compiled to signed bytecode: the compiler must sign nothing`);
      } catch (err) {
        problems.push(`#${n} compiled to bytecode that does not decode: ${String(err)}`);
      }
    } else {
      refused += 1;
      const lines = source.split(/\r\n|\r|\n/).length;
      const bad = result.diagnostics.find((d) => !(d.line >= 1 && d.line <= lines + 1 && d.column >= 1 && typeof d.message === 'string' && d.message.length > 0));
      if (result.diagnostics.length === 0 || bad) problems.push(`#${n} refused without a positioned diagnostic: ${JSON.stringify(bad ?? result.diagnostics)}`);
    }
  }
  expect(problems).toEqual([]);
  // An over-size source is a diagnostic too, not an exception.
  const huge = compile('REDUCE_COSTS BY 1% '.repeat(Math.ceil(MAX_SOURCE_BYTES / 19) + 1), undefined, { programId: 'huge' });
  expect(huge.ok).toBe(false);
  expect(huge.diagnostics.length).toBeGreaterThan(0);
  console.log(`dsl-fuzz: ${PROGRAM_COUNT} programs in ${Date.now() - started} ms (${compiled} compiled, ${refused} refused with diagnostics), slowest ${slowest.toFixed(1)} ms, 0 throws`);
}, 240_000);
