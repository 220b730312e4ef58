// The gateway's bearer tokens and their scopes, as OPENCLAW_API_TOKENS writes them (docs/configuration.md). Pure: no I/O.
import { GROUP_PATTERN } from './injection-types';

/** What a token may do: read (GET routes), compile (POST /compile), inject (POST /inject*), steer (pause, resume, abort, PATCH). */
export type Scope = 'read' | 'compile' | 'inject' | 'steer';
export const SCOPES: readonly Scope[] = ['read', 'compile', 'inject', 'steer'];
/** Scopes that may be limited to groups: the ones that change agents. */
export const GROUP_LIMITABLE_SCOPES: readonly Scope[] = ['inject', 'steer'];

/** One scope of a token: on every group (groups null) or only on the listed ones. */
export interface ScopeGrant {
  groups: readonly string[] | null;
}

export interface ApiTokenGrant {
  token: string;
  scopes: Readonly<Partial<Record<Scope, ScopeGrant>>>;
}

export const MIN_API_TOKEN_CHARS = 32;
/** Tokens one gateway accepts: each request compares against every one of them (constant time). */
export const MAX_API_TOKENS = 256;
/** Groups one scope of one token may name. */
export const MAX_GROUPS_PER_SCOPE = 64;
const TOKEN_PATTERN = /^[\x21-\x7e]+$/;

/** Every scope on every group: what a bare token (no `@`) and the dev token get. */
export function fullGrant(token: string): ApiTokenGrant {
  return { token, scopes: Object.fromEntries(SCOPES.map((s) => [s, { groups: null }])) };
}

/**
 * One OPENCLAW_API_TOKENS entry: `TOKEN` (every scope) or `TOKEN@SCOPE+SCOPE…`, where SCOPE is `read`, `compile`,
 * `inject`, `steer`, and the last two may be limited to groups: `inject:blue|green`. The entry is named by its position
 * in messages, never by its token.
 */
export function parseApiTokenEntry(entry: string, position: number): { grant: ApiTokenGrant } | { problems: string[] } {
  const at = entry.lastIndexOf('@');
  const token = at < 0 ? entry : entry.slice(0, at);
  const problems: string[] = [];
  if (token.length < MIN_API_TOKEN_CHARS || !TOKEN_PATTERN.test(token)) {
    problems.push(`token #${position} must be at least ${MIN_API_TOKEN_CHARS} printable characters with no spaces (got ${token.length})`);
  }
  if (at < 0) return problems.length > 0 ? { problems } : { grant: fullGrant(token) };
  const scopeText = entry.slice(at + 1);
  const scopes: Partial<Record<Scope, ScopeGrant>> = {};
  const where = `token #${position} (scopes ${JSON.stringify(scopeText)})`;
  if (scopeText === '') problems.push(`${where}: expected scopes after @, e.g. @read+steer`);
  for (const part of scopeText === '' ? [] : scopeText.split('+')) {
    const colon = part.indexOf(':');
    const name = colon < 0 ? part : part.slice(0, colon);
    if (!(SCOPES as readonly string[]).includes(name)) {
      problems.push(`${where}: unknown scope ${JSON.stringify(name)}; expected ${SCOPES.join(', ')}`);
      continue;
    }
    const scope = name as Scope;
    if (scopes[scope]) problems.push(`${where}: scope ${scope} is given twice`);
    if (colon < 0) {
      scopes[scope] = { groups: null };
      continue;
    }
    if (!GROUP_LIMITABLE_SCOPES.includes(scope)) {
      problems.push(`${where}: only ${GROUP_LIMITABLE_SCOPES.join(' and ')} can be limited to groups, not ${scope}`);
      continue;
    }
    const groups = part.slice(colon + 1).split('|');
    if (groups.length > MAX_GROUPS_PER_SCOPE) problems.push(`${where}: ${scope} names ${groups.length} groups, at most ${MAX_GROUPS_PER_SCOPE}`);
    for (const group of groups) if (!GROUP_PATTERN.test(group)) problems.push(`${where}: ${JSON.stringify(group)} is not a group name (letters, digits, . _ -)`);
    scopes[scope] = { groups: [...new Set(groups)] };
  }
  return problems.length > 0 ? { problems } : { grant: { token, scopes } };
}

/** Every entry of a comma-separated OPENCLAW_API_TOKENS value; problems name the variable's entries by position. */
export function parseApiTokens(value: string): { grants: ApiTokenGrant[]; problems: string[] } {
  const entries = value.split(',').map((t) => t.trim()).filter((t) => t !== '');
  const grants: ApiTokenGrant[] = [];
  const problems: string[] = [];
  if (entries.length > MAX_API_TOKENS) problems.push(`expected at most ${MAX_API_TOKENS} tokens (got ${entries.length})`);
  entries.forEach((entry, i) => {
    const parsed = parseApiTokenEntry(entry, i + 1);
    if ('problems' in parsed) problems.push(...parsed.problems);
    else if (grants.some((g) => g.token === parsed.grant.token)) problems.push(`token #${i + 1} repeats an earlier token (give each token once, with all its scopes)`);
    else grants.push(parsed.grant);
  });
  return { grants, problems };
}

/** Whether a grant covers `group` (null: the grant must cover every group, as for an explicit list of agents). */
export function grantCovers(grant: ScopeGrant, group: string | null): boolean {
  if (grant.groups === null) return true;
  return group !== null && grant.groups.includes(group);
}
