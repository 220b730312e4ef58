// The directives the reference image ships: the seed's two business directives and two that let tests force an outcome.
import { formatValue } from '../bytecode/arith';
import { Value, ValueTag } from '../bytecode/instructions';
import type { DirectiveCall, DirectiveOutcome } from '../bytecode/vm';
import { HandlerRegistry } from './handler-registry';

/** REDUCE_COSTS and OPTIMIZE_THROUGHPUT take a simulated moment, so a trace has measurable duration. */
export const SIMULATED_DIRECTIVE_MS = 5;
export const MAX_SIMULATED_FAILURE_MESSAGE_CHARS = 500;

export class DirectiveArgumentError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DirectiveArgumentError';
  }
}

function expectAmount(call: DirectiveCall, tag: ValueTag.Percent | ValueTag.Duration, unit: string): number {
  const amount = call.amount;
  if (!amount || amount.tag !== tag) {
    throw new DirectiveArgumentError(`${call.name} needs BY <${unit}>, got ${amount ? formatValue(amount) : 'nothing'}`);
  }
  return amount.value;
}

function optionalParam(call: DirectiveCall, key: string, tag: ValueTag, what: string): Value | undefined {
  const value = call.params[key];
  if (value === undefined) return undefined;
  if (value.tag !== tag) throw new DirectiveArgumentError(`${call.name}: ${key} must be ${what}, got ${formatValue(value)}`);
  return value;
}

/** Resolves after ms, or rejects as soon as the signal aborts. */
export function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(new Error('aborted before it started'));
    const onAbort = () => {
      clearTimeout(timer);
      reject(new Error('aborted'));
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

async function reduceCosts(call: DirectiveCall, signal: AbortSignal): Promise<DirectiveOutcome> {
  const percent = expectAmount(call, ValueTag.Percent, 'percent');
  if (percent <= 0 || percent > 100) throw new DirectiveArgumentError(`REDUCE_COSTS BY ${percent}% is outside 0-100%`);
  const budget = optionalParam(call, 'BUDGET', ValueTag.Money, 'money');
  const metrics = optionalParam(call, 'METRICS', ValueTag.List, 'a list');
  await abortableSleep(SIMULATED_DIRECTIVE_MS, signal);
  const outcome: Record<string, string | number | boolean> = { reducedByPercent: percent };
  if (budget && budget.tag === ValueTag.Money) outcome.budget = budget.value;
  if (metrics) outcome.metrics = formatValue(metrics);
  return outcome;
}

async function optimizeThroughput(call: DirectiveCall, signal: AbortSignal): Promise<DirectiveOutcome> {
  const target = call.amount ? expectAmount(call, ValueTag.Percent, 'percent') : null;
  await abortableSleep(SIMULATED_DIRECTIVE_MS, signal);
  return target === null ? { optimized: true } : { optimized: true, targetIncreasePercent: target };
}

async function simulateWork(call: DirectiveCall, signal: AbortSignal): Promise<DirectiveOutcome> {
  const ms = expectAmount(call, ValueTag.Duration, 'duration');
  await abortableSleep(ms, signal);
  return { workedMs: ms };
}

function simulateFailure(call: DirectiveCall): never {
  const message = optionalParam(call, 'MESSAGE', ValueTag.String, 'a string');
  const text = message && message.tag === ValueTag.String ? message.value : 'simulated failure';
  throw new Error(text.slice(0, MAX_SIMULATED_FAILURE_MESSAGE_CHARS));
}

export function registerReferenceHandlers(registry: HandlerRegistry): HandlerRegistry {
  return registry
    .registerHandler('REDUCE_COSTS', reduceCosts)
    .registerHandler('OPTIMIZE_THROUGHPUT', optimizeThroughput)
    .registerHandler('SIMULATE_WORK', simulateWork)
    .registerHandler('SIMULATE_FAILURE', simulateFailure);
}
