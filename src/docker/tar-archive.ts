// Single-file tar archives in and out of containers: pack one entry; extract exactly one, bounded and safe.
import { Readable } from 'node:stream';
import * as tar from 'tar-stream';
import { DockerAdapterError } from './errors';

/** Headers, pax records and padding a single-file archive may add on top of the file's own bytes. */
export const ARCHIVE_OVERHEAD_BYTES = 64 * 1024;
export const MAX_ENTRY_NAME_CHARS = 255;

export async function packSingleFile(name: string, content: Buffer, mode = 0o644, owner = { uid: 0, gid: 0 }): Promise<Buffer> {
  return packFiles([{ name, content, mode }], owner);
}

/** Plain files, in this order, into one archive: an extractor writes them one after the other. */
export async function packFiles(files: readonly { name: string; content: Buffer; mode?: number }[], owner = { uid: 0, gid: 0 }): Promise<Buffer> {
  const mtime = new Date();
  for (const f of files) {
    if (!isPlainEntryName(f.name)) throw new DockerAdapterError('INVALID_ARGUMENT', `tar entry name ${JSON.stringify(f.name)} must be a plain file name`);
  }
  return packEntries(files.map((f) => ({ header: { name: f.name, size: f.content.length, mode: f.mode ?? 0o644, uid: owner.uid, gid: owner.gid, mtime, type: 'file' }, content: f.content })));
}

export interface TarEntry {
  header: Partial<tar.Header> & Pick<tar.Header, 'name'>;
  content?: Buffer;
}

/** Packs entries as given, into one buffer (tests use it to hand-make unsafe archives). */
export async function packEntries(entries: TarEntry[]): Promise<Buffer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  const collected = new Promise<Buffer>((resolve, reject) => {
    pack.on('data', (chunk: unknown) => {
      chunks.push(Buffer.from(chunk as Uint8Array));
    });
    pack.on('end', () => resolve(Buffer.concat(chunks)));
    pack.on('error', reject);
  });
  for (const entry of entries) {
    if (entry.content) pack.entry(entry.header, entry.content);
    else pack.entry(entry.header);
  }
  pack.finalize();
  return collected;
}

export function isPlainEntryName(name: string): boolean {
  return name.length > 0 && name.length <= MAX_ENTRY_NAME_CHARS && !name.includes('/') && !name.includes('\0') && name !== '.' && name !== '..';
}

/**
 * Reads the one regular file named `expectedName` out of a tar stream. Refuses (ARCHIVE_UNSAFE) links, directories,
 * names that differ or carry a path, and a second entry; refuses (ARCHIVE_TOO_LARGE) content over maxBytes,
 * before reading it when the header says so. The source is destroyed on any refusal.
 */
export async function extractSingleFile(source: Readable, expectedName: string, maxBytes: number): Promise<{ content: Buffer; size: number }> {
  const extract = tar.extract();
  const maxRawBytes = maxBytes + ARCHIVE_OVERHEAD_BYTES;
  let rawBytes = 0;
  let failure: DockerAdapterError | null = null;
  const fail = (err: DockerAdapterError): DockerAdapterError => {
    failure ??= err;
    source.destroy();
    extract.destroy();
    return failure;
  };
  source.on('data', (chunk: Buffer) => {
    rawBytes += chunk.length;
    if (rawBytes > maxRawBytes) fail(new DockerAdapterError('ARCHIVE_TOO_LARGE', `archive passed ${maxRawBytes} bytes for a file bounded at ${maxBytes}`));
  });
  source.on('error', (err) => {
    if (!failure) fail(new DockerAdapterError('ARCHIVE_MALFORMED', `archive stream failed: ${err.message}`, { cause: err, retryable: true }));
  });
  source.pipe(extract);

  let result: { content: Buffer; size: number } | null = null;
  try {
    for await (const entry of extract) {
      const header = entry.header;
      if (result) throw fail(new DockerAdapterError('ARCHIVE_UNSAFE', `archive holds more than one entry (second: ${JSON.stringify(header.name)})`));
      const name = header.name.replace(/\/$/, '');
      if (name !== expectedName || !isPlainEntryName(name)) {
        throw fail(new DockerAdapterError('ARCHIVE_UNSAFE', `archive entry ${JSON.stringify(header.name)} is not the expected ${JSON.stringify(expectedName)}`));
      }
      if (header.type !== 'file') {
        throw fail(new DockerAdapterError('ARCHIVE_UNSAFE', `${expectedName} is a ${header.type ?? 'special entry'}, not a regular file`));
      }
      const declared = header.size ?? 0;
      if (declared > maxBytes) throw fail(new DockerAdapterError('ARCHIVE_TOO_LARGE', `${expectedName} is ${declared} bytes, over the ${maxBytes}-byte bound`));
      const chunks: Buffer[] = [];
      let size = 0;
      for await (const chunk of entry as AsyncIterable<Buffer>) {
        size += chunk.length;
        if (size > maxBytes) throw fail(new DockerAdapterError('ARCHIVE_TOO_LARGE', `${expectedName} passed the ${maxBytes}-byte bound`));
        chunks.push(Buffer.from(chunk as Uint8Array));
      }
      result = { content: Buffer.concat(chunks), size };
    }
  } catch (err) {
    if (failure) throw failure;
    throw new DockerAdapterError('ARCHIVE_MALFORMED', `could not read the archive: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
  if (failure) throw failure;
  if (!result) throw new DockerAdapterError('ARCHIVE_MALFORMED', `archive holds no entry named ${JSON.stringify(expectedName)}`);
  return result;
}
