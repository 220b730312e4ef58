// Code generator: checked IR to a bytecode v1 body (constant pool in first-use order, so bytes are deterministic).
import { Instruction, Opcode, Value, ValueTag } from '../bytecode/instructions';
import type { ProgramBody } from '../bytecode/format';
import { MAX_STACK_DEPTH } from '../bytecode/vm';
import { Diagnostic, diagnosticAt } from './diagnostics';
import type { IrDirective, IrExpr, IrStatement } from './ir';

export interface Generated {
  body: ProgramBody;
  diagnostics: Diagnostic[];
}

const NULL: Value = { tag: ValueTag.Null };

/** Most VM stack slots an expression needs while it is evaluated. */
function stackNeed(expr: IrExpr): number {
  switch (expr.kind) {
    case 'const':
    case 'load':
      return 1;
    case 'unary':
      return stackNeed(expr.operand);
    case 'binary':
      return Math.max(stackNeed(expr.left), 1 + stackNeed(expr.right));
  }
}

class Emitter {
  readonly instructions: Instruction[] = [];
  readonly constants: Value[] = [];
  readonly diagnostics: Diagnostic[] = [];
  private readonly constantIndex = new Map<string, number>();

  constant(value: Value): number {
    const key = JSON.stringify(value);
    let index = this.constantIndex.get(key);
    if (index === undefined) {
      index = this.constants.length;
      this.constants.push(value);
      this.constantIndex.set(key, index);
    }
    return index;
  }

  emit(op: Opcode, ...operands: number[]): number {
    this.instructions.push({ op, operands });
    return this.instructions.length - 1;
  }

  expr(expr: IrExpr): void {
    switch (expr.kind) {
      case 'const':
        this.emit(Opcode.PushConst, this.constant(expr.value));
        return;
      case 'load':
        this.emit(Opcode.LoadVar, this.constant({ tag: ValueTag.String, value: expr.name }));
        return;
      case 'unary':
        this.expr(expr.operand);
        this.emit(expr.op);
        return;
      case 'binary':
        this.expr(expr.left);
        this.expr(expr.right);
        this.emit(expr.op);
        return;
    }
  }

  statements(list: IrStatement[]): void {
    for (const statement of list) {
      if (statement.kind === 'directive') {
        this.directive(statement);
        continue;
      }
      this.checkStack(stackNeed(statement.condition), statement);
      this.expr(statement.condition);
      const toElse = this.emit(Opcode.JumpIfFalse, 0);
      this.statements(statement.then);
      if (statement.otherwise.length > 0) {
        const toEnd = this.emit(Opcode.Jump, 0);
        this.instructions[toElse].operands[0] = this.instructions.length;
        this.statements(statement.otherwise);
        this.instructions[toEnd].operands[0] = this.instructions.length;
      } else {
        this.instructions[toElse].operands[0] = this.instructions.length;
      }
    }
  }

  /** Directive call convention: amount (or Null), then key/value pairs, then DIRECTIVE name b. */
  private directive(d: IrDirective): void {
    let need = d.amount ? stackNeed(d.amount) : 1;
    d.params.forEach(([, value], i) => (need = Math.max(need, 1 + 2 * i + 1 + stackNeed(value))));
    this.checkStack(need, d);
    if (d.amount) this.expr(d.amount);
    else this.emit(Opcode.PushConst, this.constant(NULL));
    for (const [key, value] of d.params) {
      this.emit(Opcode.PushConst, this.constant({ tag: ValueTag.String, value: key }));
      this.expr(value);
    }
    this.emit(Opcode.Directive, this.constant({ tag: ValueTag.Identifier, value: d.name }), d.params.length);
  }

  private checkStack(need: number, at: IrStatement): void {
    if (need > MAX_STACK_DEPTH) {
      this.diagnostics.push(diagnosticAt('STACK_TOO_DEEP', `this needs ${need} VM stack slots, over the agent's ${MAX_STACK_DEPTH}; use fewer keys or simpler expressions`, at.span));
    }
  }
}

export function generate(programId: string, statements: IrStatement[]): Generated {
  const emitter = new Emitter();
  emitter.statements(statements);
  emitter.emit(Opcode.Halt);
  return { body: { programId, constants: emitter.constants, instructions: emitter.instructions }, diagnostics: emitter.diagnostics };
}
