// Rollout keys: settings the injector itself reads (never passed to agents), their defaults and their checks.
import { formatDuration } from '../bytecode/arith';
import { Value, ValueTag } from '../bytecode/instructions';
import { GROUP_PATTERN } from '../contracts/ids';
import type { RolloutSettings, Share } from '../contracts/rollout-settings';
import type { ScalarKind } from './catalogue';
import { hasOwn } from './context';
import type { DiagnosticCode } from './diagnostics';
import {
  MAX_DEADLINE_MS,
  MAX_MAX_PARALLEL,
  MAX_RETRIES,
  MAX_TRACE_TIMEOUT_MS,
  MIN_MAX_PARALLEL,
  MIN_TRACE_TIMEOUT_MS,
} from './limits';

export type { RolloutSettings, Share } from '../contracts/rollout-settings';

export const ROLLOUT_DEFAULTS: Readonly<RolloutSettings> = Object.freeze<RolloutSettings>({
  target: null,
  deadlineMs: 3_600_000,
  maxParallel: 10,
  maxFailures: { kind: 'count', value: 0 },
  canary: { kind: 'count', value: 1 },
  retries: 3,
  traceTimeoutMs: 60_000,
});

export type RolloutPatch = Partial<RolloutSettings>;
export type RolloutCheck = { ok: true; patch: RolloutPatch } | { ok: false; code: DiagnosticCode; message: string };

interface RolloutRule {
  kinds: readonly ScalarKind[];
  /** Context keys that supply this key's default, e.g. `deadline` and `Deadline` for DEADLINE. */
  contextNames: readonly string[];
  check(value: Value): RolloutCheck;
}

const fail = (code: DiagnosticCode, message: string): RolloutCheck => ({ ok: false, code, message });

function wholeNumberIn(key: string, value: Value, min: number, max: number, apply: (n: number) => RolloutPatch): RolloutCheck {
  const n = (value as { value: number }).value;
  if (!Number.isInteger(n) || n < min || n > max) return fail('OUT_OF_RANGE', `${key} must be a whole number from ${min} to ${max}, got ${n}`);
  return { ok: true, patch: apply(n) };
}

function share(key: string, value: Value, apply: (s: Share) => RolloutPatch): RolloutCheck {
  const n = (value as { value: number }).value;
  if (value.tag === ValueTag.Percent) {
    if (n < 0 || n > 100) return fail('PERCENT_OUT_OF_RANGE', `${key} must be a percent from 0% to 100%, got ${n}%`);
    return { ok: true, patch: apply({ kind: 'percent', value: n }) };
  }
  if (!Number.isInteger(n) || n < 0) return fail('OUT_OF_RANGE', `${key} must be a whole count of agents (0 or more) or a percent, got ${n}`);
  return { ok: true, patch: apply({ kind: 'count', value: n }) };
}

function positiveDuration(key: string, value: Value): number | RolloutCheck {
  const ms = (value as { value: number }).value;
  return ms > 0 ? ms : fail('DURATION_NOT_POSITIVE', `${key} must be a positive duration, got ${formatDuration(ms)}`);
}

function names(key: string): string[] {
  const snake = key.toLowerCase();
  const camel = snake.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
  return snake === camel ? [snake] : [snake, camel];
}

export const ROLLOUT_RULES: Readonly<Record<string, RolloutRule>> = {
  TARGET: {
    kinds: ['identifier', 'string'],
    contextNames: names('TARGET'),
    check: (value) => {
      const group = (value as { value: string }).value;
      return GROUP_PATTERN.test(group)
        ? { ok: true, patch: { target: group } }
        : fail('OUT_OF_RANGE', `TARGET must be a group name (letters, digits, . _ -; up to 63 characters), got ${JSON.stringify(group)}`);
    },
  },
  DEADLINE: {
    kinds: ['duration'],
    contextNames: names('DEADLINE'),
    check: (value) => {
      const ms = positiveDuration('DEADLINE', value);
      if (typeof ms !== 'number') return ms;
      if (ms > MAX_DEADLINE_MS) {
        return fail('DEADLINE_TOO_LONG', `DEADLINE is ${formatDuration(ms)}, over the ${formatDuration(MAX_DEADLINE_MS)} maximum; split the rollout or shorten it`);
      }
      return { ok: true, patch: { deadlineMs: ms } };
    },
  },
  MAX_PARALLEL: {
    kinds: ['number'],
    contextNames: names('MAX_PARALLEL'),
    check: (value) => wholeNumberIn('MAX_PARALLEL', value, MIN_MAX_PARALLEL, MAX_MAX_PARALLEL, (n) => ({ maxParallel: n })),
  },
  MAX_FAILURES: {
    kinds: ['number', 'percent'],
    contextNames: names('MAX_FAILURES'),
    check: (value) => share('MAX_FAILURES', value, (s) => ({ maxFailures: s })),
  },
  CANARY: {
    kinds: ['number', 'percent'],
    contextNames: names('CANARY'),
    check: (value) => share('CANARY', value, (s) => ({ canary: s })),
  },
  RETRIES: {
    kinds: ['number'],
    contextNames: names('RETRIES'),
    check: (value) => wholeNumberIn('RETRIES', value, 0, MAX_RETRIES, (n) => ({ retries: n })),
  },
  TRACE_TIMEOUT: {
    kinds: ['duration'],
    contextNames: names('TRACE_TIMEOUT'),
    check: (value) => {
      const ms = positiveDuration('TRACE_TIMEOUT', value);
      if (typeof ms !== 'number') return ms;
      if (ms < MIN_TRACE_TIMEOUT_MS || ms > MAX_TRACE_TIMEOUT_MS) {
        return fail('OUT_OF_RANGE', `TRACE_TIMEOUT must be from ${formatDuration(MIN_TRACE_TIMEOUT_MS)} to ${formatDuration(MAX_TRACE_TIMEOUT_MS)}, got ${formatDuration(ms)}`);
      }
      return { ok: true, patch: { traceTimeoutMs: ms } };
    },
  },
};

export const ROLLOUT_KEYS: readonly string[] = Object.keys(ROLLOUT_RULES);

export function isRolloutKey(key: string): boolean {
  return hasOwn(ROLLOUT_RULES, key);
}
