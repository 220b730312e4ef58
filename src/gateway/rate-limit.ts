// A token bucket per caller (its token's principal), one set of buckets per class of route: mutating, compile, read.
import type { RequestHandler } from 'express';
import { principalOf, UNAUTHENTICATED_PRINCIPAL } from './request-locals';
import { ApiError } from './errors';

export interface RateLimitOptions {
  /** Requests a caller may make in a burst. */
  burstRequests: number;
  /** Requests added back to a caller's bucket each second. */
  refillPerSecond: number;
}

export interface RateLimits {
  /** Starts and steering. */
  mutating: RateLimitOptions;
  /** Every route that compiles a program (POST /compile and the starts): a 256 KB program costs ~300 ms of the event loop. */
  compile: RateLimitOptions;
  /** GET routes that call Temporal or render metrics. */
  read: RateLimitOptions;
}

export const DEFAULT_RATE_LIMITS: Readonly<RateLimits> = Object.freeze({
  mutating: Object.freeze({ burstRequests: 30, refillPerSecond: 5 }),
  compile: Object.freeze({ burstRequests: 10, refillPerSecond: 2 }),
  read: Object.freeze({ burstRequests: 120, refillPerSecond: 20 }),
});
/** Most callers tracked at once; the least recently seen is forgotten first (it would have refilled anyway). */
export const MAX_RATE_LIMIT_BUCKETS = 10_000;

interface Bucket {
  tokens: number;
  updatedMs: number;
}

export function rateLimit(options: RateLimitOptions, now: () => number = Date.now): RequestHandler {
  if (!(options.burstRequests >= 1) || !(options.refillPerSecond > 0)) throw new RangeError('rate limit needs burstRequests >= 1 and refillPerSecond > 0');
  const buckets = new Map<string, Bucket>();
  return (req, res, next) => {
    // Behind bearerAuth, so every caller has a principal; the address is only a fallback.
    const principal = principalOf(res);
    const key = principal === UNAUTHENTICATED_PRINCIPAL ? `ip:${req.ip ?? 'unknown'}` : principal;
    const t = now();
    const bucket = buckets.get(key) ?? { tokens: options.burstRequests, updatedMs: t };
    buckets.delete(key); // re-inserted below: Map order is then least recently seen first
    bucket.tokens = Math.min(options.burstRequests, bucket.tokens + ((t - bucket.updatedMs) / 1000) * options.refillPerSecond);
    bucket.updatedMs = t;
    if (buckets.size >= MAX_RATE_LIMIT_BUCKETS) buckets.delete(buckets.keys().next().value as string);
    buckets.set(key, bucket);
    if (bucket.tokens < 1) {
      const retryAfterSeconds = Math.ceil((1 - bucket.tokens) / options.refillPerSecond);
      res.set('Retry-After', String(retryAfterSeconds));
      return next(new ApiError(429, 'RATE_LIMITED', `too many requests; try again in ${retryAfterSeconds} s`, { retryAfterSeconds }));
    }
    bucket.tokens -= 1;
    next();
  };
}
