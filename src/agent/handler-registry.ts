// Pluggable directive handlers: an agent author registers one function per directive name.
import type { DirectiveHandler } from '../bytecode/vm';

export const DIRECTIVE_NAME_PATTERN = /^[A-Z][A-Z0-9_]{0,63}$/;
export const MAX_HANDLERS = 256;

export class HandlerRegistryError extends Error {
  constructor(
    readonly code: 'BAD_DIRECTIVE_NAME' | 'DUPLICATE_HANDLER' | 'TOO_MANY_HANDLERS',
    message: string,
  ) {
    super(message);
    this.name = 'HandlerRegistryError';
  }
}

export class HandlerRegistry {
  private readonly handlers = new Map<string, DirectiveHandler>();

  registerHandler(name: string, handler: DirectiveHandler): this {
    if (!DIRECTIVE_NAME_PATTERN.test(name)) {
      throw new HandlerRegistryError('BAD_DIRECTIVE_NAME', `directive name ${JSON.stringify(name)} must match ${DIRECTIVE_NAME_PATTERN}`);
    }
    if (this.handlers.has(name)) throw new HandlerRegistryError('DUPLICATE_HANDLER', `a handler for ${name} is already registered`);
    if (this.handlers.size >= MAX_HANDLERS) throw new HandlerRegistryError('TOO_MANY_HANDLERS', `at most ${MAX_HANDLERS} handlers`);
    this.handlers.set(name, handler);
    return this;
  }

  handler(name: string): DirectiveHandler | undefined {
    return this.handlers.get(name);
  }

  names(): string[] {
    return [...this.handlers.keys()].sort();
  }
}
