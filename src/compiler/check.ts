// Semantic pass: resolves names and context, type-checks with the unit rules, folds constants, drops dead branches,
// gathers rollout settings; reports every error it finds in one pass.
import { applyBinary, applyUnary, ArithError, BinaryOpcode, formatValue } from '../bytecode/arith';
import { Opcode, Value, ValueTag } from '../bytecode/instructions';
import type { DirectiveNode, Expr, Span, Statement, WhenNode } from './ast';
import { DirectiveCatalogue, KIND_TAG, RUNTIME_VARIABLES, ScalarKind, ValueSpec } from './catalogue';
import { contextValue, hasOwn, lookupContext } from './context';
import { Diagnostic, diagnosticAt, DiagnosticCode } from './diagnostics';
import { didYouMean } from './did-you-mean';
import { IrExpr, IrStatement, renderExpr } from './ir';
import { MAX_BLOCK_ENTRIES, MAX_DIAGNOSTICS, MAX_EXPRESSION_DEPTH, MAX_LIST_LENGTH } from './limits';
import { isRolloutKey, ROLLOUT_DEFAULTS, ROLLOUT_KEYS, ROLLOUT_RULES, RolloutPatch, RolloutSettings } from './rollout';
import { binaryResultType, describeType, StaticType, typeOf, unaryResultType } from './types';

export interface DirectiveSummary {
  name: string;
  line: number;
  column: number;
  amount: string | null;
  params: Record<string, string>;
}

export interface CheckResult {
  statements: IrStatement[];
  rollout: RolloutSettings;
  directives: DirectiveSummary[];
  diagnostics: Diagnostic[];
}

/** live: always runs; runtime: runs when an agent.* condition holds; dead: can never run. */
type Liveness = 'live' | 'runtime' | 'dead';

interface Typed {
  ir: IrExpr;
  type: StaticType;
  /** Set when the value is known at compile time. */
  value: Value | undefined;
}

const OPERATOR_HINT: Partial<Record<Opcode, string>> = {
  [Opcode.Add]: 'both sides need the same unit (money + money, 1h + 30m)',
  [Opcode.Sub]: 'both sides need the same unit (money - money, 1h - 30m)',
  [Opcode.Mul]: 'multiply by a number or a percent ($500 * 10%, 2 * 30m)',
  [Opcode.Div]: 'divide by a number, or by the same unit to get a number',
  [Opcode.Lt]: 'compare values of the same unit (agent.cpu > 80%)',
  [Opcode.Le]: 'compare values of the same unit (agent.cpu > 80%)',
  [Opcode.Gt]: 'compare values of the same unit (agent.cpu > 80%)',
  [Opcode.Ge]: 'compare values of the same unit (agent.cpu > 80%)',
  [Opcode.Eq]: 'compare values of the same type',
  [Opcode.Ne]: 'compare values of the same type',
  [Opcode.And]: 'use booleans, e.g. comparisons',
  [Opcode.Or]: 'use booleans, e.g. comparisons',
  [Opcode.Not]: 'use a boolean, e.g. a comparison',
  [Opcode.Neg]: 'only numbers, percents, money and durations can be negated',
};

/** A fix for the commonest mix-ups: a bare number where a unit was wanted, an unquoted string. */
function conversionHint(wanted: readonly ScalarKind[], got: StaticType): string {
  if (got.tag === ValueTag.Number) {
    if (wanted.includes('money')) return '; write it as money, e.g. $500 (or multiply a context number by $1)';
    if (wanted.includes('percent')) return '; add a percent sign, e.g. 15%';
    if (wanted.includes('duration')) return '; add a unit, e.g. 30s, 5m, 2h or 1d';
  }
  if (got.tag === ValueTag.Identifier && wanted.includes('string')) return '; put it in double quotes';
  if (got.tag === ValueTag.String && wanted.includes('identifier')) return '; write it without quotes';
  return '';
}

const KIND_PHRASE: Readonly<Record<ScalarKind, string>> = {
  number: 'a number',
  percent: 'a percent',
  money: 'money',
  duration: 'a duration',
  string: 'a string',
  identifier: 'an identifier',
  boolean: 'a boolean',
};

function listOfKinds(kinds: readonly ScalarKind[]): string {
  const phrases = kinds.map((k) => KIND_PHRASE[k]);
  return phrases.length === 1 ? phrases[0] : `${phrases.slice(0, -1).join(', ')} or ${phrases[phrases.length - 1]}`;
}

class Checker {
  readonly diagnostics: Diagnostic[] = [];
  readonly directives: DirectiveSummary[] = [];
  private readonly rolloutSeen = new Map<string, { json: string; shown: string; line: number }>();
  private readonly rollout: RolloutPatch = {};

  constructor(
    private readonly context: Record<string, unknown>,
    private readonly catalogue: DirectiveCatalogue,
    private readonly optimize: boolean,
  ) {}

  private dropped = 0;

  private report(code: DiagnosticCode, message: string, span: Span | undefined, severity: 'error' | 'warning' = 'error'): void {
    if (this.diagnostics.length < MAX_DIAGNOSTICS) this.diagnostics.push(diagnosticAt(code, message, span, severity));
    else this.dropped++;
  }

  /** One closing diagnostic when the bound was hit, so a flood of errors stays readable. */
  finish(): void {
    if (this.dropped > 0) {
      this.diagnostics.push(diagnosticAt('TOO_MANY_DIAGNOSTICS', `${this.dropped} more diagnostics were dropped after the first ${MAX_DIAGNOSTICS}; fix these and compile again`));
    }
  }

  statements(list: Statement[], liveness: Liveness): IrStatement[] {
    const out: IrStatement[] = [];
    for (const statement of list) {
      if (statement.kind === 'directive') out.push(this.directive(statement, liveness));
      else out.push(...this.when(statement, liveness));
    }
    return out;
  }

  private when(node: WhenNode, liveness: Liveness): IrStatement[] {
    let condition = this.expression(node.condition);
    if (condition && condition.type.tag !== ValueTag.Boolean) {
      this.report(
        'TYPE_MISMATCH',
        `a WHEN condition must be a boolean, got ${describeType(condition.type)}; compare something, e.g. WHEN agent.cpu > 80%`,
        node.condition.span,
      );
      condition = null;
    }
    const known = condition?.value?.tag === ValueTag.Boolean ? condition.value.value : undefined;
    const branch = (taken: boolean): Liveness => {
      if (liveness === 'dead' || condition === null) return liveness;
      if (known === undefined) return 'runtime';
      return known === taken ? liveness : 'dead';
    };
    const then = this.statements(node.then, branch(true));
    const otherwise = this.statements(node.otherwise, branch(false));
    if (condition === null) return [];
    if (this.optimize && known !== undefined) return known ? then : otherwise;
    if (this.optimize && then.length === 0 && otherwise.length === 0) return [];
    return [{ kind: 'when', condition: condition.ir, then, otherwise, span: node.span }];
  }

  private directive(node: DirectiveNode, liveness: Liveness): IrStatement {
    const name = node.name.text;
    const spec = hasOwn(this.catalogue, name) ? this.catalogue[name] : undefined;
    if (!spec) {
      const known = Object.keys(this.catalogue);
      const hint = didYouMean(name, known) || ` Known directives: ${known.join(', ')}.`;
      this.report('UNKNOWN_DIRECTIVE', `unknown directive ${name}.${hint}`, node.name.span);
    }

    let amount: Typed | null = null;
    if (node.amount) {
      const typed = this.expression(node.amount);
      if (spec && spec.amount === null) {
        this.report('AMOUNT_NOT_ALLOWED', `${name} takes no BY amount; remove "BY ..."`, node.amount.span);
      } else if (typed && spec?.amount) {
        amount = this.conform(typed, spec.amount, `the BY amount of ${name}`, node.amount.span);
      }
    } else if (spec?.amount?.required) {
      this.report('MISSING_AMOUNT', `${name} needs an amount: ${name} BY <${spec.amount.kinds.join(' or ')}> (${spec.amount.description})`, node.name.span);
    }

    if (node.entries.length > MAX_BLOCK_ENTRIES) {
      this.report('TOO_MANY_KEYS', `${name} has ${node.entries.length} keys, over the ${MAX_BLOCK_ENTRIES}-key limit`, node.span);
    }
    const seen = new Map<string, number>();
    const params: Array<[string, IrExpr]> = [];
    const shown: Record<string, string> = {};
    for (const entry of node.entries) {
      const key = entry.key.text;
      const typed = this.expression(entry.value);
      const previousLine = seen.get(key);
      if (previousLine !== undefined) {
        this.report('DUPLICATE_KEY', `${key} is already set on line ${previousLine}; keep one of them`, entry.key.span);
        continue;
      }
      seen.set(key, entry.key.span.start.line);
      if (isRolloutKey(key)) {
        if (typed) this.rolloutEntry(key, typed, entry.value.span, liveness);
        continue;
      }
      const paramSpec = spec && hasOwn(spec.params, key) ? spec.params[key] : undefined;
      if (!paramSpec) {
        if (spec) {
          const known = [...Object.keys(spec.params), ...ROLLOUT_KEYS];
          const hint = didYouMean(key, known) || ` ${name} takes: ${known.join(', ')}.`;
          this.report('UNKNOWN_KEY', `${name} has no key ${key}.${hint}`, entry.key.span);
        }
        continue;
      }
      const value = typed && this.conform(typed, paramSpec, key, entry.value.span);
      if (value) {
        params.push([key, value.ir]);
        shown[key] = value.value === undefined ? renderExpr(value.ir) : formatValue(value.value);
      }
    }
    for (const [key, paramSpec] of Object.entries(spec?.params ?? {})) {
      if (paramSpec.required && !seen.has(key)) {
        this.report('MISSING_KEY', `${name} needs ${key} (${paramSpec.description})`, node.name.span);
      }
    }

    if (liveness !== 'dead') {
      this.directives.push({
        name,
        line: node.name.span.start.line,
        column: node.name.span.start.column,
        amount: amount === null ? null : amount.value === undefined ? renderExpr(amount.ir) : formatValue(amount.value),
        params: shown,
      });
    }
    return { kind: 'directive', name, amount: amount?.ir ?? null, params, span: node.span };
  }

  /** Checks a value against what its slot accepts; a single value where a list is wanted becomes a list of one. */
  private conform(typed: Typed, spec: ValueSpec, what: string, span: Span): Typed | null {
    const accepted = spec.kinds.map((k) => KIND_TAG[k]);
    const mismatch = (): null => {
      const wanted = `${listOfKinds(spec.kinds)}${spec.list ? ' (or a list of them)' : ''}`;
      this.report('TYPE_MISMATCH', `${what} expects ${wanted}, got ${describeType(typed.type)}${conversionHint(spec.kinds, typed.type)}`, span);
      return null;
    };
    let result = typed;
    if (typed.type.tag === ValueTag.List) {
      if (!spec.list) return mismatch();
      if (typed.type.item !== undefined && !accepted.includes(typed.type.item)) return mismatch();
    } else {
      if (!accepted.includes(typed.type.tag)) return mismatch();
      if (spec.list) {
        if (typed.value === undefined) {
          this.report('NOT_CONSTANT', `${what} is a list, and list items must be known at compile time (no agent.* variables)`, span);
          return null;
        }
        const list: Value = { tag: ValueTag.List, items: [typed.value] };
        result = { ir: { kind: 'const', value: list }, type: typeOf(list), value: list };
      }
    }
    if (result.value !== undefined && !this.inRange(result.value, what, span)) return null;
    return result;
  }

  /** Range rules every final value obeys: percents within 0–100, durations above zero, money not negative. */
  private inRange(value: Value, what: string, span: Span): boolean {
    switch (value.tag) {
      case ValueTag.Percent:
        if (value.value < 0 || value.value > 100) {
          this.report('PERCENT_OUT_OF_RANGE', `${what} is ${formatValue(value)}; a percent must be from 0% to 100%`, span);
          return false;
        }
        return true;
      case ValueTag.Duration:
        if (value.value <= 0) {
          this.report('DURATION_NOT_POSITIVE', `${what} is ${formatValue(value)}; a duration must be above zero`, span);
          return false;
        }
        return true;
      case ValueTag.Money:
        if (value.value < 0) {
          this.report('OUT_OF_RANGE', `${what} is -$${-value.value}; money must not be negative`, span);
          return false;
        }
        return true;
      case ValueTag.List:
        return value.items.every((item) => this.inRange(item, what, span));
      default:
        return true;
    }
  }

  private rolloutEntry(key: string, typed: Typed, span: Span, liveness: Liveness): void {
    const rule = ROLLOUT_RULES[key];
    if (typed.value === undefined) {
      this.report('NOT_CONSTANT', `${key} must be known at compile time; it cannot depend on agent.* variables`, span);
      return;
    }
    if (!rule.kinds.map((k) => KIND_TAG[k]).includes(typed.type.tag)) {
      this.report('TYPE_MISMATCH', `${key} expects ${listOfKinds(rule.kinds)}, got ${describeType(typed.type)}${conversionHint(rule.kinds, typed.type)}`, span);
      return;
    }
    const checked = rule.check(typed.value);
    if (!checked.ok) {
      this.report(checked.code as DiagnosticCode, checked.message, span);
      return;
    }
    if (liveness === 'dead') return;
    if (liveness === 'runtime') {
      this.report(
        'ROLLOUT_IN_RUNTIME_BRANCH',
        `${key} applies to the whole injection, so it cannot sit under a WHEN on agent.* variables; move it to a directive outside that block`,
        span,
      );
      return;
    }
    const json = JSON.stringify(checked.patch);
    const shown = formatValue(typed.value);
    const prior = this.rolloutSeen.get(key);
    if (prior === undefined) {
      this.rolloutSeen.set(key, { json, shown, line: span.start.line });
      Object.assign(this.rollout, checked.patch);
    } else if (prior.json !== json) {
      this.report(
        'ROLLOUT_CONFLICT',
        `${key} is ${shown} here but ${prior.shown} on line ${prior.line}; a rollout setting applies to the whole injection, so give it one value`,
        span,
      );
    }
  }

  /** Rollout keys the program leaves unset take the context's value (`deadline` for DEADLINE), else the default. */
  settings(): RolloutSettings {
    const fromContext: RolloutPatch = {};
    for (const key of ROLLOUT_KEYS) {
      if (this.rolloutSeen.has(key)) continue;
      const rule = ROLLOUT_RULES[key];
      const contextName = rule.contextNames.find((n) => hasOwn(this.context, n));
      if (contextName === undefined) continue;
      const where = `context "${contextName}" (the default for ${key})`;
      const converted = contextValue(this.context[contextName]);
      if (!converted.ok) {
        this.report(converted.code, `${where}: ${converted.message}`, undefined);
        continue;
      }
      const type = typeOf(converted.value);
      if (!rule.kinds.map((k) => KIND_TAG[k]).includes(type.tag)) {
        this.report('TYPE_MISMATCH', `${where} expects ${listOfKinds(rule.kinds)}, got ${describeType(type)}${conversionHint(rule.kinds, type)}`, undefined);
        continue;
      }
      const checked = rule.check(converted.value);
      if (checked.ok) Object.assign(fromContext, checked.patch);
      else this.report(checked.code as DiagnosticCode, `${where}: ${checked.message}`, undefined);
    }
    return { ...ROLLOUT_DEFAULTS, ...fromContext, ...this.rollout };
  }

  private expression(expr: Expr): Typed | null {
    if (expr.depth > MAX_EXPRESSION_DEPTH) {
      this.report('EXPRESSION_TOO_DEEP', `this expression nests ${expr.depth} levels deep, over the ${MAX_EXPRESSION_DEPTH}-level limit; simplify it`, expr.span);
      return null;
    }
    return this.typed(expr);
  }

  private constant(value: Value, structural?: IrExpr): Typed {
    return { ir: this.optimize || !structural ? { kind: 'const', value: normalize(value) } : structural, type: typeOf(value), value: normalize(value) };
  }

  private arithFailure(err: ArithError, op: Opcode, span: Span): null {
    const code: DiagnosticCode = err.code === 'TYPE_MISMATCH' ? 'TYPE_MISMATCH' : err.code === 'DIVISION_BY_ZERO' ? 'DIVISION_BY_ZERO' : 'NOT_FINITE';
    const hint = err.code === 'TYPE_MISMATCH' && OPERATOR_HINT[op] ? `; ${OPERATOR_HINT[op]}` : '';
    this.report(code, `${err.message}${hint}`, span);
    return null;
  }

  private typed(expr: Expr): Typed | null {
    switch (expr.kind) {
      case 'literal': {
        const v = expr.value;
        if ('value' in v && typeof v.value === 'number' && !Number.isFinite(v.value)) {
          this.report('NOT_FINITE', 'this number is too large to represent', expr.span);
          return null;
        }
        return this.constant(v);
      }
      case 'context':
        return this.contextReference(expr.path, expr.span);
      case 'variable': {
        if (!hasOwn(RUNTIME_VARIABLES, expr.name)) {
          const known = Object.keys(RUNTIME_VARIABLES);
          const hint = didYouMean(expr.name, known) || ` The agents provide: ${known.map((k) => `agent.${k}`).join(', ')}.`;
          this.report('UNKNOWN_VARIABLE', `agent.${expr.name} is not an agent variable.${hint.replace(/Did you mean (\w+)\?/, 'Did you mean agent.$1?')}`, expr.span);
          return null;
        }
        return { ir: { kind: 'load', name: expr.name }, type: { tag: KIND_TAG[RUNTIME_VARIABLES[expr.name]] }, value: undefined };
      }
      case 'unary': {
        const operand = this.typed(expr.operand);
        if (!operand) return null;
        const structural: IrExpr = { kind: 'unary', op: expr.op, operand: operand.ir };
        if (operand.value !== undefined) {
          try {
            return this.constant(applyUnary(expr.op, operand.value), structural);
          } catch (err) {
            if (err instanceof ArithError) return this.arithFailure(err, expr.op, expr.span);
            throw err;
          }
        }
        const type = unaryResultType(expr.op, operand.type);
        if (type instanceof ArithError) return this.arithFailure(type, expr.op, expr.span);
        return { ir: structural, type, value: undefined };
      }
      case 'binary':
        return this.binary(expr.op, expr.left, expr.right, expr.span);
      case 'list':
        return this.list(expr.items, expr.span);
    }
  }

  private contextReference(path: string, span: Span): Typed | null {
    const found = lookupContext(this.context, path);
    if (!found.found) {
      const last = path.split('.').pop() ?? path;
      const hint = didYouMean(last, found.known) || (found.known.length > 0 ? ` The context has: ${found.known.slice(0, 10).join(', ')}.` : ' The context is empty.');
      this.report('UNDEFINED_CONTEXT', `\${${path}} is not in the context.${hint}`, span);
      return null;
    }
    const converted = contextValue(found.value);
    if (!converted.ok) {
      this.report(converted.code, `\${${path}}: ${converted.message}`, span);
      return null;
    }
    return this.constant(converted.value);
  }

  private binary(op: BinaryOpcode, leftExpr: Expr, rightExpr: Expr, span: Span): Typed | null {
    const left = this.typed(leftExpr);
    const right = this.typed(rightExpr);
    if (!left || !right) return null;
    const structural: IrExpr = { kind: 'binary', op, left: left.ir, right: right.ir };
    if (left.value !== undefined && right.value !== undefined) {
      try {
        return this.constant(applyBinary(op, left.value, right.value), structural);
      } catch (err) {
        if (err instanceof ArithError) return this.arithFailure(err, op, span);
        throw err;
      }
    }
    const type = binaryResultType(op, left.type, right.type);
    if (type instanceof ArithError) {
      const tags = [left.type.tag, right.type.tag];
      if ((op === Opcode.Eq || op === Opcode.Ne) && tags.includes(ValueTag.String) && tags.includes(ValueTag.Identifier)) {
        this.report('TYPE_MISMATCH', `${type.message}; agent text variables are strings, so quote the other side (agent.group == "batch")`, span);
        return null;
      }
      return this.arithFailure(type, op, span);
    }
    if (op === Opcode.Div && right.value !== undefined && 'value' in right.value && right.value.value === 0) {
      this.report('DIVISION_BY_ZERO', 'division by zero', span);
      return null;
    }
    return { ir: structural, type, value: undefined };
  }

  private list(itemExprs: Expr[], span: Span): Typed | null {
    const items = itemExprs.map((item) => this.typed(item));
    if (itemExprs.length > MAX_LIST_LENGTH) {
      this.report('LIST_TOO_LONG', `this list has ${itemExprs.length} items, over the ${MAX_LIST_LENGTH}-item limit`, span);
      return null;
    }
    const values: Value[] = [];
    let ok = true;
    items.forEach((item, i) => {
      if (!item) {
        ok = false;
        return;
      }
      const itemSpan = itemExprs[i].span;
      if (item.value === undefined) {
        this.report('NOT_CONSTANT', 'list items must be known at compile time (no agent.* variables)', itemSpan);
        ok = false;
      } else if (item.value.tag === ValueTag.List) {
        this.report('TYPE_MISMATCH', 'a list item cannot itself be a list', itemSpan);
        ok = false;
      } else if (values.length > 0 && item.value.tag !== values[0].tag) {
        this.report('TYPE_MISMATCH', `list items must share one type: the first is ${describeType(typeOf(values[0]))}, this one is ${describeType(item.type)}`, itemSpan);
        ok = false;
      } else {
        values.push(item.value);
      }
    });
    return ok ? this.constant({ tag: ValueTag.List, items: values }) : null;
  }
}

/** -0 and 0 are one constant: keeps the constant pool (and so the bytes) canonical. */
function normalize(value: Value): Value {
  if ('value' in value && typeof value.value === 'number' && Object.is(value.value, -0)) return { ...value, value: 0 };
  return value;
}

export function check(statements: Statement[], context: Record<string, unknown>, catalogue: DirectiveCatalogue, optimize: boolean): CheckResult {
  const checker = new Checker(context, catalogue, optimize);
  if (statements.length === 0) checker.diagnostics.push(diagnosticAt('EMPTY_PROGRAM', 'the program holds no directive; write at least one, e.g. REDUCE_COSTS BY 15%'));
  const ir = checker.statements(statements, 'live');
  const rollout = checker.settings();
  checker.finish();
  if (statements.length > 0 && checker.directives.length === 0 && !checker.diagnostics.some((d) => d.severity === 'error')) {
    checker.diagnostics.push(diagnosticAt('NO_DIRECTIVE_RUNS', 'every directive sits in a WHEN branch that can never run; the program does nothing', undefined, 'warning'));
  }
  return { statements: ir, rollout, directives: checker.directives, diagnostics: checker.diagnostics };
}
