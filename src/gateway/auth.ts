// Bearer-token authentication: tokens from config, compared in constant time; the caller's identity goes to res.locals.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { RequestHandler, Response } from 'express';
import { ApiError } from './errors';

/** Identity used when no token is configured (insecure dev mode). */
export const ANONYMOUS_PRINCIPAL = 'anonymous';
const PRINCIPAL_DIGEST_CHARS = 16;

/** Compares SHA-256 digests so that neither the token's content nor its length leaks through timing. */
export function tokenMatches(presented: string, accepted: readonly Buffer[]): boolean {
  const digest = createHash('sha256').update(presented).digest();
  let match = false;
  for (const candidate of accepted) match = timingSafeEqual(digest, candidate) || match;
  return match;
}

/** A stable, non-secret name for a token: a prefix of its SHA-256, so logs and workflow inputs never hold the token. */
export function tokenPrincipal(token: string): string {
  return `token:${createHash('sha256').update(token).digest('hex').slice(0, PRINCIPAL_DIGEST_CHARS)}`;
}

/** Who made the request, as the auth middleware established it. */
export function principalOf(res: Response): string {
  const principal: unknown = res.locals.principal;
  return typeof principal === 'string' ? principal : ANONYMOUS_PRINCIPAL;
}

export function bearerAuth(tokens: readonly string[]): RequestHandler {
  const accepted = tokens.map((t) => createHash('sha256').update(t).digest());
  return (req, res, next) => {
    if (accepted.length === 0) {
      // insecure dev mode: the entry point refused to start without a token otherwise
      res.locals.principal = ANONYMOUS_PRINCIPAL;
      return next();
    }
    const header = req.get('authorization');
    if (!header) return next(new ApiError(401, 'UNAUTHENTICATED', 'missing Authorization: Bearer <token> header'));
    const match = /^Bearer ([\x21-\x7e]+)$/.exec(header);
    if (!match || !tokenMatches(match[1], accepted)) return next(new ApiError(403, 'FORBIDDEN', 'the bearer token is not accepted'));
    res.locals.principal = tokenPrincipal(match[1]);
    next();
  };
}
