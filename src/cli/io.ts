// What a CLI command may touch: output streams, files, stdin and the trusted public keys, injected so tests run in-process.
import { readFile } from 'node:fs/promises';
import { loadConfig } from '../config';
import { loadTrustedKeys } from '../shared/signing-key';
import type { TrustedKeys } from '../signing/keys';
import { safeSink, TextSink } from './terminal-text';

export interface CliIo {
  stdout: TextSink;
  stderr: TextSink;
  readFile(path: string): Promise<string>;
  /** Reads all of stdin, up to maxBytes; more than that is an error. */
  readStdin(maxBytes: number): Promise<string>;
  /** Reads a file's bytes (a program file for `compile --bytecode`). */
  readBinaryFile?(path: string): Promise<Buffer>;
  /** Public keys a program's signature is checked against; loaded on demand because not every command needs them. */
  trustedKeys(): TrustedKeys;
  /** Environment the gateway commands read (OPENCLAW_GATEWAY_URL, OPENCLAW_API_TOKEN); absent means none. */
  env?: Readonly<Record<string, string | undefined>>;
  /** Waits between status polls (`--watch`); tests may shorten it. */
  sleep?(ms: number): Promise<void>;
}

export interface CliCommand {
  name: string;
  summary: string;
  usage: string;
  /** Resolves to the process exit code: 0 done, 1 the operation failed, 2 bad usage or environment. */
  run(argv: string[], io: CliIo): Promise<number>;
}

export class CliUsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CliUsageError';
  }
}

async function readStdin(maxBytes: number): Promise<string> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of process.stdin) {
    const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
    total += buffer.length;
    if (total > maxBytes) throw new CliUsageError(`stdin is over ${maxBytes} bytes`);
    chunks.push(buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** The real process: console streams (control characters in what they print escaped), the filesystem, the trusted public keys. */
export function processIo(): CliIo {
  return {
    stdout: safeSink(process.stdout),
    stderr: safeSink(process.stderr),
    readFile: (path) => readFile(path, 'utf8'),
    readStdin,
    readBinaryFile: (path) => readFile(path),
    trustedKeys: () => loadTrustedKeys(loadConfig()),
    env: process.env,
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  };
}
