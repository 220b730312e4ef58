// Dev mode's guard against DNS rebinding: a web page that gets its own name to resolve to 127.0.0.1 still sends its
// own name in Host, so only the loopback names with the gateway's port are answered.
import type { RequestHandler } from 'express';
import { ApiError } from './errors';

export const LOOPBACK_HOST_NAMES: readonly string[] = ['localhost', '127.0.0.1', '[::1]'];

/** Answers 421 HOST_NOT_ALLOWED unless Host is a loopback name with `port()` (read per request: it is known after listen). */
export function loopbackHostOnly(port: () => number): RequestHandler {
  return (req, _res, next) => {
    const host = req.get('host') ?? '';
    const allowed = LOOPBACK_HOST_NAMES.map((name) => `${name}:${port()}`);
    if (allowed.includes(host.toLowerCase())) return next();
    next(new ApiError(421, 'HOST_NOT_ALLOWED', `dev mode answers only Host ${allowed.join(', ')}; got ${JSON.stringify(host.slice(0, 100))}`));
  };
}
