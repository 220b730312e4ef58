// The syntax tree the parser builds: every node carries its source span (from Parsimmon's .mark()).
import type { BinaryOpcode } from '../bytecode/arith';
import type { Opcode, Value } from '../bytecode/instructions';

export interface Position {
  offset: number;
  line: number;
  column: number;
}

export interface Span {
  start: Position;
  end: Position;
}

interface ExprBase {
  span: Span;
  /** Height of the tree under this node (a leaf is 1): lets the checker refuse deep trees before recursing. */
  depth: number;
}

export type Expr =
  | (ExprBase & { kind: 'literal'; value: Value })
  | (ExprBase & { kind: 'context'; path: string })
  | (ExprBase & { kind: 'variable'; name: string })
  | (ExprBase & { kind: 'unary'; op: Opcode.Neg | Opcode.Not; operand: Expr })
  | (ExprBase & { kind: 'binary'; op: BinaryOpcode; left: Expr; right: Expr })
  | (ExprBase & { kind: 'list'; items: Expr[] });

export interface Name {
  text: string;
  span: Span;
}

export interface Entry {
  key: Name;
  value: Expr;
  span: Span;
}

export interface DirectiveNode {
  kind: 'directive';
  name: Name;
  amount: Expr | null;
  entries: Entry[];
  span: Span;
}

export interface WhenNode {
  kind: 'when';
  condition: Expr;
  then: Statement[];
  otherwise: Statement[];
  span: Span;
}

export type Statement = DirectiveNode | WhenNode;

export interface ProgramNode {
  statements: Statement[];
}

export function spanning(from: Span, to: Span): Span {
  return { start: from.start, end: to.end };
}
