// Bearer tokens and their scopes: tokens compared in constant time; the caller's identity and grant go to res.locals.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { RequestHandler, Response } from 'express';
import { ApiTokenGrant, grantCovers, Scope, ScopeGrant } from '../shared/api-tokens';
import { ApiError } from './errors';

const PRINCIPAL_DIGEST_CHARS = 16;

/**
 * Index of the accepted digest the presented token matches, or -1. Compares SHA-256 digests against every candidate,
 * always, so that neither the token's content, its length, nor which entry matched leaks through timing.
 */
export function matchToken(presented: string, accepted: readonly Buffer[]): number {
  const digest = createHash('sha256').update(presented).digest();
  let index = -1;
  accepted.forEach((candidate, i) => {
    if (timingSafeEqual(digest, candidate) && index < 0) index = i;
  });
  return index;
}

export function tokenMatches(presented: string, accepted: readonly Buffer[]): boolean {
  return matchToken(presented, accepted) >= 0;
}

/** A stable, non-secret name for a token: a prefix of its SHA-256, so logs and workflow inputs never hold the token. */
export function tokenPrincipal(token: string): string {
  return `token:${createHash('sha256').update(token).digest('hex').slice(0, PRINCIPAL_DIGEST_CHARS)}`;
}

function grantOf(res: Response): ApiTokenGrant {
  const grant = res.locals.grant as ApiTokenGrant | undefined;
  // Every route is mounted behind bearerAuth; reaching here without a grant is a wiring bug, not a client error.
  if (!grant) throw new Error('no grant on the request: bearerAuth did not run');
  return grant;
}

export function bearerAuth(grants: readonly ApiTokenGrant[]): RequestHandler {
  if (grants.length === 0) throw new RangeError('bearerAuth needs at least one token (dev mode generates one)');
  const accepted = grants.map((g) => createHash('sha256').update(g.token).digest());
  const principals = grants.map((g) => tokenPrincipal(g.token));
  return (req, res, next) => {
    const header = req.get('authorization');
    if (!header) return next(new ApiError(401, 'UNAUTHENTICATED', 'missing Authorization: Bearer <token> header'));
    const match = /^Bearer ([\x21-\x7e]+)$/.exec(header);
    const index = match ? matchToken(match[1], accepted) : -1;
    if (index < 0) return next(new ApiError(403, 'FORBIDDEN', 'the bearer token is not accepted'));
    res.locals.principal = principals[index];
    res.locals.grant = grants[index];
    next();
  };
}

function missingScope(scope: Scope): ApiError {
  return new ApiError(403, 'FORBIDDEN_SCOPE', `this token lacks the ${scope} scope`, { scope });
}

/** Refuses with 403 FORBIDDEN_SCOPE, naming the scope, unless the caller's token has it (on some group at least). */
export function requireScope(scope: Scope): RequestHandler {
  return (_req, res, next) => {
    next(grantOf(res).scopes[scope] ? undefined : missingScope(scope));
  };
}

/** The caller's grant of a scope; requireScope(scope) ran before, so it is there. */
export function scopeGrant(res: Response, scope: Scope): ScopeGrant {
  const grant = grantOf(res).scopes[scope];
  if (!grant) throw missingScope(scope);
  return grant;
}

/**
 * Refuses unless the caller's `scope` covers `group`. `group` null means "not one known group" (explicit agent ids, or
 * an injection started that way): only a token unlimited in that scope passes.
 */
export function requireGroup(res: Response, scope: Scope, group: string | null, what: string): void {
  const grant = scopeGrant(res, scope);
  if (grantCovers(grant, group)) return;
  const limited = `this token's ${scope} scope is limited to group${grant.groups!.length === 1 ? '' : 's'} ${grant.groups!.join(', ')}`;
  const message = group === null ? `${limited}: ${what} names no group, so it is refused` : `${limited}: ${what} is group ${group}`;
  throw new ApiError(403, 'FORBIDDEN_SCOPE', message, { scope, groups: grant.groups, ...(group === null ? {} : { group }) });
}
