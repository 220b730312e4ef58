// The injector's TLS to the Temporal frontend: the configured PEM files read into the SDK's TLS options, for the
// worker's NativeConnection and the gateway's Connection alike.
import { readFileSync, statSync } from 'node:fs';
import type { TLSConfig } from '@temporalio/client';
import type { TemporalTlsConfig } from '../config';

/** A CA bundle or certificate chain far larger than this is not a PEM file someone meant to give us. */
export const MAX_PEM_FILE_BYTES = 1024 * 1024;

export type TemporalTlsErrorCode = 'TLS_FILE_UNREADABLE' | 'TLS_FILE_TOO_LARGE' | 'TLS_FILE_NOT_PEM';

export class TemporalTlsError extends Error {
  constructor(
    readonly code: TemporalTlsErrorCode,
    readonly variable: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`${variable}: ${message}`, options);
    this.name = 'TemporalTlsError';
  }
}

function readPem(variable: string, file: string): Buffer {
  let bytes: Buffer;
  try {
    if (statSync(file).size > MAX_PEM_FILE_BYTES) throw new TemporalTlsError('TLS_FILE_TOO_LARGE', variable, `${file} is larger than ${MAX_PEM_FILE_BYTES} bytes`);
    bytes = readFileSync(file);
  } catch (err) {
    if (err instanceof TemporalTlsError) throw err;
    throw new TemporalTlsError('TLS_FILE_UNREADABLE', variable, `cannot read ${file} (${(err as Error).message})`, { cause: err });
  }
  if (!bytes.includes('-----BEGIN ')) throw new TemporalTlsError('TLS_FILE_NOT_PEM', variable, `${file} holds no PEM block (-----BEGIN …)`);
  return bytes;
}

/** The SDK's `tls` connection option for these settings; undefined (plaintext) when TLS is off. */
export function temporalTlsOptions(tls: TemporalTlsConfig | undefined): TLSConfig | undefined {
  if (tls === undefined) return undefined;
  return {
    serverNameOverride: tls.serverName,
    serverRootCACertificate: tls.caFile === undefined ? undefined : readPem('TEMPORAL_TLS_CA', tls.caFile),
    clientCertPair:
      tls.certFile === undefined || tls.keyFile === undefined ? undefined : { crt: readPem('TEMPORAL_TLS_CERT', tls.certFile), key: readPem('TEMPORAL_TLS_KEY', tls.keyFile) },
  };
}
