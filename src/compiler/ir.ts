// The checked program the code generator consumes: names resolved, context substituted, constants folded.
import { BinaryOpcode, formatValue, OPERATOR_SYMBOL } from '../bytecode/arith';
import { Opcode, Value } from '../bytecode/instructions';
import type { Span } from './ast';

export type IrExpr =
  | { kind: 'const'; value: Value }
  | { kind: 'load'; name: string }
  | { kind: 'unary'; op: Opcode.Neg | Opcode.Not; operand: IrExpr }
  | { kind: 'binary'; op: BinaryOpcode; left: IrExpr; right: IrExpr };

export interface IrDirective {
  kind: 'directive';
  name: string;
  amount: IrExpr | null;
  /** Agent parameters in source order (rollout keys already taken out). */
  params: Array<[string, IrExpr]>;
  span: Span;
}

export interface IrWhen {
  kind: 'when';
  condition: IrExpr;
  then: IrStatement[];
  otherwise: IrStatement[];
  span: Span;
}

export type IrStatement = IrDirective | IrWhen;

/** DSL text of an expression, for directive summaries: `agent.cpu / 4`. */
export function renderExpr(expr: IrExpr): string {
  switch (expr.kind) {
    case 'const':
      return formatValue(expr.value);
    case 'load':
      return `agent.${expr.name}`;
    case 'unary': {
      const inner = expr.operand.kind === 'binary' ? `(${renderExpr(expr.operand)})` : renderExpr(expr.operand);
      return expr.op === Opcode.Not ? `not ${inner}` : `-${inner}`;
    }
    case 'binary': {
      const side = (e: IrExpr) => (e.kind === 'binary' ? `(${renderExpr(e)})` : renderExpr(e));
      return `${side(expr.left)} ${OPERATOR_SYMBOL[expr.op]} ${side(expr.right)}`;
    }
  }
}
