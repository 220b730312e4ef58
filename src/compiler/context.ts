// The request context: `${name}` lookups and the conversion of JSON context values into DSL values.
import { Value, ValueTag } from '../bytecode/instructions';
import { parseLiteral } from './grammar';
import { MAX_LIST_LENGTH } from './limits';

export type ContextLookup = { found: true; value: unknown } | { found: false; known: string[] };

export type Conversion = { ok: true; value: Value } | { ok: false; code: 'CONTEXT_TYPE' | 'LIST_TOO_LONG'; message: string };

/** Own properties only: a name such as `constructor` must not reach the prototype. */
export function hasOwn(o: object, key: string): boolean {
  return Object.prototype.hasOwnProperty.call(o, key);
}

export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Follows a dotted path through own properties only (never the prototype chain). */
export function lookupContext(context: Record<string, unknown>, path: string): ContextLookup {
  let current: unknown = context;
  for (const part of path.split('.')) {
    if (!isRecord(current) || !hasOwn(current, part)) {
      return { found: false, known: isRecord(current) ? Object.keys(current) : [] };
    }
    current = current[part];
  }
  return { found: true, value: current };
}

/**
 * JSON to DSL value: numbers stay numbers, booleans booleans; a string is read as a DSL literal when it is one
 * ("2h" → duration, "15%" → percent, "$500" → money, "web_tier" → identifier), else it is a string; an array
 * of such scalars, all of one type, is a list. null, objects and nested arrays have no DSL form.
 */
export function contextValue(raw: unknown): Conversion {
  if (Array.isArray(raw)) {
    if (raw.length > MAX_LIST_LENGTH) {
      return { ok: false, code: 'LIST_TOO_LONG', message: `the list has ${raw.length} items, over the ${MAX_LIST_LENGTH}-item limit` };
    }
    const items: Value[] = [];
    for (const element of raw) {
      const item = scalarValue(element);
      if (!item.ok) return item;
      if (items.length > 0 && items[0].tag !== item.value.tag) {
        return { ok: false, code: 'CONTEXT_TYPE', message: 'a list must hold items of one type' };
      }
      items.push(item.value);
    }
    return { ok: true, value: { tag: ValueTag.List, items } };
  }
  return scalarValue(raw);
}

function scalarValue(raw: unknown): Conversion {
  if (typeof raw === 'number') {
    return Number.isFinite(raw) ? { ok: true, value: { tag: ValueTag.Number, value: raw } } : { ok: false, code: 'CONTEXT_TYPE', message: 'the number is not finite' };
  }
  if (typeof raw === 'boolean') return { ok: true, value: { tag: ValueTag.Boolean, value: raw } };
  if (typeof raw === 'string') return { ok: true, value: parseLiteral(raw) ?? { tag: ValueTag.String, value: raw } };
  const what = raw === null ? 'null' : Array.isArray(raw) ? 'a nested list' : typeof raw === 'object' ? 'an object' : typeof raw;
  return { ok: false, code: 'CONTEXT_TYPE', message: `${what} has no DSL form (use a number, boolean, string or list of them)` };
}
