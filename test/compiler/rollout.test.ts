// Rollout settings: defaults, context defaults, program values, and the directive summaries callers show.
import { ROLLOUT_DEFAULTS } from '../../src/compiler';
import { compileTest, SEED_CONTEXT, SEED_PROGRAMS } from './fixtures';

describe('rollout settings', () => {
  it('a program that sets nothing gets the documented defaults', () => {
    expect(compileTest('OPTIMIZE_THROUGHPUT').rollout).toEqual({
      target: null,
      deadlineMs: 3_600_000,
      maxParallel: 10,
      maxFailures: { kind: 'count', value: 0 },
      canary: { kind: 'count', value: 1 },
      retries: 3,
      traceTimeoutMs: 60_000,
    });
    expect(ROLLOUT_DEFAULTS.deadlineMs).toBe(3_600_000);
  });

  it('the seed program sets its target and deadline', () => {
    const result = compileTest(SEED_PROGRAMS.full, SEED_CONTEXT);
    expect(result.rollout).toMatchObject({ target: 'optimization_agents', deadlineMs: 2 * 3_600_000 });
  });

  it('the context supplies a default when the program does not set the key', () => {
    const result = compileTest('OPTIMIZE_THROUGHPUT', { deadline: '2h', max_parallel: 50, maxFailures: '5%', canary: 3, target: 'web-tier' });
    expect(result.rollout).toMatchObject({
      deadlineMs: 7_200_000,
      maxParallel: 50,
      maxFailures: { kind: 'percent', value: 5 },
      canary: { kind: 'count', value: 3 },
      target: 'web-tier',
    });
  });

  it('the program wins over the context', () => {
    expect(compileTest('OPTIMIZE_THROUGHPUT { DEADLINE: 30m }', { deadline: '2h' }).rollout?.deadlineMs).toBe(1_800_000);
  });

  it('the same value on two directives is not a conflict', () => {
    const result = compileTest('REDUCE_COSTS BY 5% { CANARY: 10% }\nOPTIMIZE_THROUGHPUT { CANARY: 10% }');
    expect(result.ok).toBe(true);
    expect(result.rollout?.canary).toEqual({ kind: 'percent', value: 10 });
  });

  it('rollout keys in a branch that never runs do not apply', () => {
    const result = compileTest('WHEN ${env} == production { OPTIMIZE_THROUGHPUT { RETRIES: 0 } } ELSE { OPTIMIZE_THROUGHPUT { RETRIES: 7 } }', { env: 'staging' });
    expect(result.rollout?.retries).toBe(7);
  });
});

describe('directive summaries', () => {
  it('list live and runtime directives with their amount and agent parameters, not dead ones', () => {
    const source = 'REDUCE_COSTS BY 15% {\n  DEADLINE: 2h\n  BUDGET: $1,250.50\n}\nWHEN agent.cpu > 80% { OPTIMIZE_THROUGHPUT BY 100% - agent.cpu }\nWHEN false { SIMULATE_FAILURE }';
    expect(compileTest(source).directives).toEqual([
      { name: 'REDUCE_COSTS', line: 1, column: 1, amount: '15%', params: { BUDGET: '$1250.50' } },
      { name: 'OPTIMIZE_THROUGHPUT', line: 5, column: 24, amount: '100% - agent.cpu', params: {} },
    ]);
  });
});
