// Static types of expressions, derived from the VM's own unit rules (arith.ts) so checker and VM cannot disagree.
import { applyBinary, applyUnary, ArithError, BinaryOpcode, typeName } from '../bytecode/arith';
import { Opcode, Value, ValueTag } from '../bytecode/instructions';

export interface StaticType {
  tag: ValueTag;
  /** Item tag of a list (undefined for an empty list or a scalar). */
  item?: ValueTag;
}

export function typeOf(value: Value): StaticType {
  if (value.tag === ValueTag.List) return { tag: ValueTag.List, item: value.items[0]?.tag };
  return { tag: value.tag };
}

export function describeType(type: StaticType): string {
  if (type.tag === ValueTag.List) return type.item === undefined ? 'empty list' : `list of ${typeName(type.item)}`;
  return typeName(type.tag);
}

/** A representative value of a type: 1 for measures, so sample arithmetic never divides by zero or overflows. */
function sample(tag: ValueTag, item?: ValueTag): Value {
  switch (tag) {
    case ValueTag.Number:
    case ValueTag.Percent:
    case ValueTag.Money:
    case ValueTag.Duration:
      return { tag, value: 1 };
    case ValueTag.String:
    case ValueTag.Identifier:
      return { tag, value: 'x' };
    case ValueTag.Boolean:
      return { tag, value: true };
    case ValueTag.List:
      return { tag, items: item === undefined ? [] : [sample(item)] };
    case ValueTag.Null:
      return { tag };
  }
}

/** The result type of `a op b`, or the ArithError the VM would raise for those operand types. */
export function binaryResultType(op: BinaryOpcode, a: StaticType, b: StaticType): StaticType | ArithError {
  try {
    return typeOf(applyBinary(op, sample(a.tag, a.item), sample(b.tag, b.item)));
  } catch (err) {
    if (err instanceof ArithError) return err;
    throw err;
  }
}

export function unaryResultType(op: Opcode.Neg | Opcode.Not, a: StaticType): StaticType | ArithError {
  try {
    return typeOf(applyUnary(op, sample(a.tag, a.item)));
  } catch (err) {
    if (err instanceof ArithError) return err;
    throw err;
  }
}
