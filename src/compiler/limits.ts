// Named bounds of the DSL compiler; docs/dsl.md ("Limits") states each one.

/** Largest source program accepted, in UTF-8 bytes. */
export const MAX_SOURCE_BYTES = 256 * 1024;
/** Most items in one list value (`METRICS: a, b, c` or a context array). */
export const MAX_LIST_LENGTH = 256;
/** Deepest nesting of `(` and `{` (WHEN blocks and parentheses) the parser accepts. */
export const MAX_NESTING_DEPTH = 32;
/**
 * Deepest nesting of WHEN blocks, where each ELSE WHEN of a chain counts as one level inside the WHEN before it
 * (that is how the checker and the code generator walk it): a chain of this many links, or fewer inside blocks.
 */
export const MAX_WHEN_DEPTH = 256;
/** Deepest expression tree (operators applied to operators) the checker accepts. */
export const MAX_EXPRESSION_DEPTH = 64;
/** Most entries in one directive's block. */
export const MAX_BLOCK_ENTRIES = 64;
/** Longest DEADLINE: seven days, in milliseconds. */
export const MAX_DEADLINE_MS = 7 * 24 * 3_600_000;
export const MIN_MAX_PARALLEL = 1;
export const MAX_MAX_PARALLEL = 1_000;
export const MAX_RETRIES = 10;
export const MIN_TRACE_TIMEOUT_MS = 1_000;
export const MAX_TRACE_TIMEOUT_MS = 3_600_000;
/** Most diagnostics one compile reports; past it one TOO_MANY_DIAGNOSTICS says how many more were dropped. */
export const MAX_DIAGNOSTICS = 200;
