// The bytecode interpreter: a small stack machine with a step limit and a wall-clock limit, and no eval.
import { applyBinary, applyUnary, ArithError, BinaryOpcode, formatValue } from './arith';
import { Instruction, Opcode, Value, ValueTag } from './instructions';
import type { ProgramBody } from './format';

export const DEFAULT_MAX_STEPS = 10_000;
export const DEFAULT_TIME_LIMIT_MS = 60_000;
export const MAX_STACK_DEPTH = 256;

export type VmErrorCode =
  | 'VM_STEP_LIMIT'
  | 'VM_TIME_LIMIT'
  | 'VM_TYPE'
  | 'VM_DIVISION_BY_ZERO'
  | 'VM_STACK'
  | 'VM_UNKNOWN_VARIABLE'
  | 'VM_UNKNOWN_DIRECTIVE'
  | 'VM_DIRECTIVE_FAILED'
  | 'VM_MALFORMED';

export class VmError extends Error {
  constructor(
    readonly code: VmErrorCode,
    message: string,
    /** Index of the instruction that failed. */
    readonly pc: number,
  ) {
    super(message);
    this.name = 'VmError';
  }
}

export interface DirectiveCall {
  name: string;
  /** The BY amount, or null when the directive had none. */
  amount: Value | null;
  params: Readonly<Record<string, Value>>;
  /** 1-based count of directives run so far in this program, this one included. */
  step: number;
}

/** What a directive handler did, for the trace line (kept small: it is written to the log). */
export type DirectiveOutcome = Record<string, string | number | boolean> | void;

/** A handler gets an AbortSignal that fires when the program's time limit passes. */
export type DirectiveHandler = (call: DirectiveCall, signal: AbortSignal) => Promise<DirectiveOutcome> | DirectiveOutcome;

export interface StepEvent {
  step: number;
  /** Readable form, e.g. `REDUCE_COSTS BY 15% {BUDGET: $500}` */
  instruction: string;
  status: 'executing' | 'completed' | 'error';
  outcome?: DirectiveOutcome;
  error?: string;
}

export interface VmOptions {
  handler(name: string): DirectiveHandler | undefined;
  variable(name: string): Value | undefined;
  maxSteps?: number;
  timeLimitMs?: number;
  /** Called before and after each directive; the agent turns these into trace lines. */
  onStep?(event: StepEvent): void;
}

export interface VmResult {
  directives: number;
  instructionsExecuted: number;
}

/** Runs a verified program to Halt or the end. Throws VmError on any failure, after reporting the failed step. */
export async function runProgram(program: ProgramBody, options: VmOptions): Promise<VmResult> {
  const maxSteps = options.maxSteps ?? DEFAULT_MAX_STEPS;
  const timeLimitMs = options.timeLimitMs ?? DEFAULT_TIME_LIMIT_MS;
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeLimitMs);
  const deadline = Date.now() + timeLimitMs;
  try {
    return await execute(program, options, maxSteps, timeLimitMs, deadline, controller.signal);
  } finally {
    clearTimeout(timer);
  }
}

async function execute(
  program: ProgramBody,
  options: VmOptions,
  maxSteps: number,
  timeLimitMs: number,
  deadline: number,
  signal: AbortSignal,
): Promise<VmResult> {
  const { constants, instructions } = program;
  const stack: Value[] = [];
  let pc = 0;
  let executed = 0;
  let directives = 0;

  const pop = (): Value => {
    const v = stack.pop();
    if (v === undefined) throw new VmError('VM_STACK', 'stack underflow', pc);
    return v;
  };
  const push = (v: Value): void => {
    if (stack.length >= MAX_STACK_DEPTH) throw new VmError('VM_STACK', `stack deeper than ${MAX_STACK_DEPTH}`, pc);
    stack.push(v);
  };
  const constant = (index: number): Value => {
    const v = constants[index];
    if (v === undefined) throw new VmError('VM_MALFORMED', `constant #${index} does not exist`, pc);
    return v;
  };
  const timeLeft = (): void => {
    if (Date.now() > deadline || signal.aborted) throw new VmError('VM_TIME_LIMIT', `program ran past its ${timeLimitMs} ms time limit`, pc);
  };

  while (pc < instructions.length) {
    if (++executed > maxSteps) throw new VmError('VM_STEP_LIMIT', `program ran past its ${maxSteps}-instruction step limit`, pc);
    timeLeft();
    const ins: Instruction = instructions[pc];
    let next = pc + 1;
    try {
      switch (ins.op) {
        case Opcode.PushConst:
          push(constant(ins.operands[0]));
          break;
        case Opcode.LoadVar: {
          const name = constant(ins.operands[0]);
          const key = name.tag === ValueTag.String || name.tag === ValueTag.Identifier ? name.value : formatValue(name);
          const value = options.variable(key);
          if (value === undefined) throw new VmError('VM_UNKNOWN_VARIABLE', `this agent has no variable '${key}'`, pc);
          push(value);
          break;
        }
        case Opcode.Pop:
          pop();
          break;
        case Opcode.Neg:
        case Opcode.Not:
          push(applyUnary(ins.op, pop()));
          break;
        case Opcode.Jump:
          next = ins.operands[0];
          break;
        case Opcode.JumpIfFalse: {
          const cond = pop();
          if (cond.tag !== ValueTag.Boolean) throw new VmError('VM_TYPE', `a condition must be a boolean, got ${ValueTag[cond.tag]}`, pc);
          if (!cond.value) next = ins.operands[0];
          break;
        }
        case Opcode.Directive:
          directives++;
          await runDirective(ins, directives, pop, constant, options, signal, timeLeft, pc);
          break;
        case Opcode.Halt:
          return { directives, instructionsExecuted: executed };
        default: {
          const right = pop();
          const left = pop();
          push(applyBinary(ins.op as BinaryOpcode, left, right));
        }
      }
    } catch (err) {
      if (err instanceof ArithError) {
        throw new VmError(err.code === 'DIVISION_BY_ZERO' ? 'VM_DIVISION_BY_ZERO' : 'VM_TYPE', err.message, pc);
      }
      throw err;
    }
    pc = next;
  }
  return { directives, instructionsExecuted: executed };
}

async function runDirective(
  ins: Instruction,
  step: number,
  pop: () => Value,
  constant: (i: number) => Value,
  options: VmOptions,
  signal: AbortSignal,
  timeLeft: () => void,
  pc: number,
): Promise<void> {
  const nameValue = constant(ins.operands[0]);
  if (nameValue.tag !== ValueTag.Identifier) throw new VmError('VM_MALFORMED', 'a directive name must be an identifier constant', pc);
  const params: Record<string, Value> = Object.create(null);
  const pairs: Array<[string, Value]> = [];
  for (let i = 0; i < ins.operands[1]; i++) {
    const value = pop();
    const key = pop();
    if (key.tag !== ValueTag.String) throw new VmError('VM_MALFORMED', 'a directive parameter key must be a string', pc);
    pairs.unshift([key.value, value]);
  }
  for (const [key, value] of pairs) params[key] = value;
  const amountValue = pop();
  const call: DirectiveCall = { name: nameValue.value, amount: amountValue.tag === ValueTag.Null ? null : amountValue, params, step };
  const instruction = describeCall(call);

  options.onStep?.({ step, instruction, status: 'executing' });
  const handler = options.handler(call.name);
  if (!handler) {
    const message = `this agent has no handler for directive ${call.name}`;
    options.onStep?.({ step, instruction, status: 'error', error: message });
    throw new VmError('VM_UNKNOWN_DIRECTIVE', message, pc);
  }
  let outcome: DirectiveOutcome;
  try {
    outcome = await raceAbort(Promise.resolve(handler(call, signal)), signal);
    timeLeft();
  } catch (err) {
    const vmError =
      err instanceof VmError ? err : new VmError('VM_DIRECTIVE_FAILED', `${call.name} failed: ${err instanceof Error ? err.message : String(err)}`, pc);
    options.onStep?.({ step, instruction, status: 'error', error: vmError.message });
    throw vmError;
  }
  options.onStep?.({ step, instruction, status: 'completed', outcome });
}

function raceAbort<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(new VmError('VM_TIME_LIMIT', 'program ran past its time limit', -1));
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new VmError('VM_TIME_LIMIT', 'program ran past its time limit', -1));
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}

/** `NAME BY amount {K: v, ...}` — the readable form used in trace lines. */
export function describeCall(call: Pick<DirectiveCall, 'name' | 'amount' | 'params'>): string {
  const by = call.amount ? ` BY ${formatValue(call.amount)}` : '';
  const keys = Object.keys(call.params);
  const params = keys.length > 0 ? ` {${keys.map((k) => `${k}: ${formatValue(call.params[k])}`).join(', ')}}` : '';
  return `${call.name}${by}${params}`;
}
