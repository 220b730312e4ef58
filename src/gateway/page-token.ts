// Page tokens the gateway hands out: Temporal's own token, sealed with an HMAC bound to the list's query and page size,
// so an altered token, or one from another list, is a 400 naming pageToken, never foreign bytes fed to visibility.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { ApiError } from './errors';

const PAGE_TOKEN_VERSION = 2;
const PAGE_TOKEN_MAC_BYTES = 16;
/** Bytes of the per-process key drawn when none is configured (OPENCLAW_PAGE_TOKEN_SECRET). */
export const PAGE_TOKEN_KEY_BYTES = 32;

export interface PageTokenSealer {
  seal(inner: Buffer, query: string, pageSize: number): string;
  /** Temporal's token inside `token`, or a 400 if the token was not sealed by this key for this query and page size. */
  open(token: string, query: string, pageSize: number): Buffer;
}

export function badPageToken(why: string): ApiError {
  return new ApiError(400, 'INVALID_REQUEST', `pageToken: ${why}`, { problems: [{ field: 'pageToken', problem: why }] });
}

/** A sealer keyed by `secret`, or by a random key of this process (tokens then die with it). */
export function createPageTokenSealer(secret: Buffer = randomBytes(PAGE_TOKEN_KEY_BYTES)): PageTokenSealer {
  const key = Buffer.from(secret);
  const mac = (inner: Buffer, query: string, pageSize: number): Buffer =>
    createHmac('sha256', key).update(`${query}\n${pageSize}\n`).update(inner).digest().subarray(0, PAGE_TOKEN_MAC_BYTES);
  return {
    seal(inner, query, pageSize) {
      return Buffer.concat([Buffer.from([PAGE_TOKEN_VERSION]), mac(inner, query, pageSize), inner]).toString('base64url');
    },
    open(token, query, pageSize) {
      const bytes = Buffer.from(token, 'base64url');
      const inner = bytes.subarray(1 + PAGE_TOKEN_MAC_BYTES);
      const presented = bytes.subarray(1, 1 + PAGE_TOKEN_MAC_BYTES);
      const valid = bytes[0] === PAGE_TOKEN_VERSION && inner.length > 0 && presented.length === PAGE_TOKEN_MAC_BYTES && timingSafeEqual(mac(inner, query, pageSize), presented);
      if (!valid) throw badPageToken('it is not the nextPageToken of this list with these filters and this limit');
      return inner;
    },
  };
}
