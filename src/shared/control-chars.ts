// Control characters in text that comes from outside (agents, the gateway, DSL sources): one definition, two remedies.

/** C0 controls (U+0000–U+001F, ESC among them), DEL (U+007F) and C1 controls (U+0080–U+009F, CSI among them). */
export const CONTROL_CHARACTER = /[\u0000-\u001f\u007f-\u009f]/;
const CONTROL_CHARACTERS = new RegExp(CONTROL_CHARACTER.source, 'g');

export function hasControlCharacter(text: string): boolean {
  return CONTROL_CHARACTER.test(text);
}

/** The offset of the first control character in `text` from `from`, or -1. */
export function indexOfControlCharacter(text: string, from = 0): number {
  for (let i = from; i < text.length; i++) if (CONTROL_CHARACTER.test(text[i])) return i;
  return -1;
}

export function stripControlCharacters(text: string): string {
  return text.replace(CONTROL_CHARACTERS, '');
}

/** `\u001b` for ESC and so on: readable, and still the same string when the text is JSON. */
export function controlCharacterEscape(char: string): string {
  return `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`;
}

/** Every control character of `text` as its `\uXXXX` escape, except those in `keep` (e.g. a newline). */
export function escapeControlCharacters(text: string, keep: ReadonlySet<string> = new Set()): string {
  return text.replace(CONTROL_CHARACTERS, (char) => (keep.has(char) ? char : controlCharacterEscape(char)));
}
