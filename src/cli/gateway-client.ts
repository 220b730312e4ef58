// How the operator CLI talks to the gateway: URL and token from flags or the environment, one JSON request at a time.
import path from 'node:path';
import { readDevToken } from '../shared/dev-token';
import { CliIo, CliUsageError } from './io';

export const DEFAULT_GATEWAY_URL = 'http://127.0.0.1:7005';
/** Longer than the gateway's longest `?wait=true` (60 s), so a waited request is never cut short by the CLI. */
export const GATEWAY_REQUEST_TIMEOUT_MS = 75_000;

/** Flags every gateway command takes, for node:util parseArgs. */
export const GATEWAY_FLAGS = {
  url: { type: 'string' },
  token: { type: 'string' },
  json: { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

export const GATEWAY_FLAGS_USAGE = `  --url URL        gateway address (default $OPENCLAW_GATEWAY_URL, else ${DEFAULT_GATEWAY_URL})
  --token TOKEN    bearer token (default $OPENCLAW_API_TOKEN; when neither is set and the URL is
                   loopback, the dev token \`npm start\` wrote to $OPENCLAW_DATA_DIR/dev-token, .data/dev-token)
  --json           print the gateway's JSON answer, for scripts`;

export interface GatewayTarget {
  url: string;
  token: string | undefined;
}

/** An answer the gateway gave with an error status, in its `{error: {code, message, details}}` shape. */
export class GatewayCallError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly body: unknown,
  ) {
    super(message);
    this.name = 'GatewayCallError';
  }
}

/** Host names of this machine: only for these does the CLI look for the dev token. */
const LOOPBACK_HOSTNAMES: readonly string[] = ['localhost', '127.0.0.1', '[::1]'];

function isLoopback(url: string): boolean {
  try {
    return LOOPBACK_HOSTNAMES.includes(new URL(url).hostname);
  } catch {
    return false;
  }
}

export function gatewayTarget(values: { url?: string; token?: string }, io: CliIo): GatewayTarget {
  const url = (values.url ?? io.env?.OPENCLAW_GATEWAY_URL ?? DEFAULT_GATEWAY_URL).replace(/\/+$/, '');
  if (!/^https?:\/\/[^\s/]+/.test(url)) throw new CliUsageError(`the gateway URL must be http(s)://host[:port], got ${JSON.stringify(url)}`);
  const explicit = values.token ?? io.env?.OPENCLAW_API_TOKEN;
  if (explicit !== undefined && explicit !== '') return { url, token: explicit };
  // `npm start` on this machine: its token is in the data directory (never sent to any other host).
  const token = isLoopback(url) ? readDevToken(path.resolve(io.env?.OPENCLAW_DATA_DIR || '.data')) : undefined;
  return { url, token };
}

export async function callGateway(
  target: GatewayTarget,
  method: 'GET' | 'POST' | 'PATCH',
  path: string,
  options: { body?: unknown; headers?: Record<string, string> } = {},
): Promise<{ status: number; body: unknown }> {
  const headers: Record<string, string> = { Accept: 'application/json', ...options.headers };
  if (target.token) headers.Authorization = `Bearer ${target.token}`;
  if (options.body !== undefined) headers['Content-Type'] = 'application/json';
  let response: Response;
  try {
    response = await fetch(target.url + path, {
      method,
      headers,
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
      signal: AbortSignal.timeout(GATEWAY_REQUEST_TIMEOUT_MS),
    });
  } catch (err) {
    const cause = err instanceof Error && err.cause instanceof Error ? `: ${err.cause.message}` : '';
    throw new GatewayCallError(0, 'UNREACHABLE', `cannot reach the gateway at ${target.url} (${err instanceof Error ? err.message : String(err)}${cause})`, null);
  }
  const text = await response.text();
  let body: unknown = text;
  try {
    body = text === '' ? null : JSON.parse(text);
  } catch {
    // not JSON (e.g. a proxy's error page): keep the text
  }
  if (response.status >= 400) {
    const error = (body as { error?: { code?: unknown; message?: unknown } } | null)?.error;
    const code = typeof error?.code === 'string' ? error.code : `HTTP_${response.status}`;
    const message = typeof error?.message === 'string' ? error.message : String(text).slice(0, 200);
    throw new GatewayCallError(response.status, code, message, body);
  }
  return { status: response.status, body };
}

/**
 * Runs a gateway command body with the shared error handling: bad usage exits 2 (with the usage text), a gateway
 * error exits 1 (its JSON on stdout with --json, a one-line message on stderr otherwise).
 */
export async function runGatewayCommand(name: string, usage: string, argv: string[], io: CliIo, body: (json: boolean) => Promise<number>): Promise<number> {
  const json = argv.includes('--json');
  try {
    return await body(json);
  } catch (err) {
    if (err instanceof CliUsageError) {
      io.stderr.write(`openclaw ${name}: ${err.message}\n${usage}\n`);
      return 2;
    }
    if (err instanceof GatewayCallError) {
      if (json) io.stdout.write(JSON.stringify(err.body ?? { error: { code: err.code, message: err.message } }, null, 2) + '\n');
      io.stderr.write(`openclaw ${name}: ${err.status ? `${err.status} ` : ''}${err.code}: ${err.message}\n`);
      return 1;
    }
    throw err;
  }
}

/** parseArgs failures are usage errors. */
export function usageErrors<T>(parse: () => T): T {
  try {
    return parse();
  } catch (err) {
    throw new CliUsageError((err as Error).message);
  }
}
