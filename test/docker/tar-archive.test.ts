// Archive safety on hand-made tar streams: one plain file in, nothing else out.
import { Readable } from 'node:stream';
import { DockerAdapterError } from '../../src/docker/errors';
import { extractSingleFile, packEntries, packSingleFile, TarEntry } from '../../src/docker/tar-archive';

type Entry = TarEntry;
const archiveOf = packEntries;

const file = (name: string, content: string): Entry => ({ header: { name, type: 'file', size: Buffer.byteLength(content) }, content: Buffer.from(content) });

async function refusal(archive: Buffer, expected: string, maxBytes = 1024): Promise<DockerAdapterError> {
  try {
    await extractSingleFile(Readable.from([archive]), expected, maxBytes);
  } catch (err) {
    if (err instanceof DockerAdapterError) return err;
    throw err;
  }
  throw new Error('extraction was expected to fail');
}

describe('tar archives', () => {
  test('a packed file extracts back to the same bytes', async () => {
    const archive = await packSingleFile('program.bc', Buffer.from('hello'), 0o644, { uid: 1000, gid: 1000 });
    const result = await extractSingleFile(Readable.from([archive]), 'program.bc', 1024);
    expect(result.content.toString()).toBe('hello');
    expect(result.size).toBe(5);
  });

  test('an entry whose name escapes the path is refused as unsafe', async () => {
    expect((await refusal(await archiveOf([file('../../etc/passwd', 'x')]), 'passwd')).code).toBe('ARCHIVE_UNSAFE');
    expect((await refusal(await archiveOf([file('sub/program.bc', 'x')]), 'program.bc')).code).toBe('ARCHIVE_UNSAFE');
  });

  test('a symlink or hard link is refused, even under the expected name', async () => {
    const symlink = await archiveOf([{ header: { name: 'program.bc', type: 'symlink', linkname: '/etc/shadow' } }]);
    expect((await refusal(symlink, 'program.bc')).code).toBe('ARCHIVE_UNSAFE');
    const hardlink = await archiveOf([{ header: { name: 'program.bc', type: 'link', linkname: '/etc/shadow' } }]);
    expect((await refusal(hardlink, 'program.bc')).code).toBe('ARCHIVE_UNSAFE');
  });

  test('a directory is refused', async () => {
    const dir = await archiveOf([{ header: { name: 'program.bc/', type: 'directory' } }]);
    expect((await refusal(dir, 'program.bc')).code).toBe('ARCHIVE_UNSAFE');
  });

  test('an oversize file is refused as too large, and so is an oversize raw stream', async () => {
    const big = await archiveOf([file('program.bc', 'x'.repeat(2000))]);
    const err = await refusal(big, 'program.bc', 1000);
    expect(err.code).toBe('ARCHIVE_TOO_LARGE');
    expect(err.retryable).toBe(false);
    const garbage = Buffer.alloc(200 * 1024, 0x61);
    expect((await refusal(garbage, 'program.bc', 10)).code).toMatch(/ARCHIVE_TOO_LARGE|ARCHIVE_MALFORMED/);
  });

  test('a second entry after the expected one is refused', async () => {
    const two = await archiveOf([file('program.bc', 'a'), file('program.bc', 'b')]);
    expect((await refusal(two, 'program.bc')).code).toBe('ARCHIVE_UNSAFE');
  });

  test('an empty archive is malformed, not a silent empty file', async () => {
    expect((await refusal(await archiveOf([]), 'program.bc')).code).toBe('ARCHIVE_MALFORMED');
  });

  test('packing refuses a name with a path', async () => {
    await expect(packSingleFile('../x', Buffer.from('y'))).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });
});
