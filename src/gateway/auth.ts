// Bearer-token authentication: tokens from config, compared in constant time.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { RequestHandler } from 'express';
import { ApiError } from './errors';

/** Compares SHA-256 digests so that neither the token's content nor its length leaks through timing. */
export function tokenMatches(presented: string, accepted: readonly Buffer[]): boolean {
  const digest = createHash('sha256').update(presented).digest();
  let match = false;
  for (const candidate of accepted) match = timingSafeEqual(digest, candidate) || match;
  return match;
}

export function bearerAuth(tokens: readonly string[]): RequestHandler {
  const accepted = tokens.map((t) => createHash('sha256').update(t).digest());
  return (req, _res, next) => {
    if (accepted.length === 0) return next(); // insecure dev mode: the entry point refused to start without a token otherwise
    const header = req.get('authorization');
    if (!header) return next(new ApiError(401, 'UNAUTHENTICATED', 'missing Authorization: Bearer <token> header'));
    const match = /^Bearer ([\x21-\x7e]+)$/.exec(header);
    if (!match || !tokenMatches(match[1], accepted)) return next(new ApiError(403, 'FORBIDDEN', 'the bearer token is not accepted'));
    next();
  };
}
