// Host-path transfer: when an agent's directories are bind mounts from under a root on this worker's host, files are
// read and written there directly (atomic temp + rename, no symlinks followed, contained in the root); every other
// path, and every container without such mounts, goes through the Docker archive API as before.
import { randomBytes } from 'node:crypto';
import { constants as fsConstants, promises as fs } from 'node:fs';
import path from 'node:path';
import { AGENT_FILE_OWNER } from './dockerode-adapter';
import { DockerAdapterError } from './errors';
import type { DockerAdapter, FileRead, FileStat } from './types';

/** Containers whose mounts are remembered (a container's mounts never change); the oldest is forgotten first. */
export const MAX_CACHED_MOUNT_TABLES = 50_000;
/** File names written or read on the host: one plain name inside a mounted directory, nothing path-like. */
const HOST_FILE_NAME = /^[A-Za-z0-9._-]{1,200}$/;

export interface BindMount {
  /** Path on the host (the engine's view, which is this worker's: same host, same mount namespace). */
  source: string;
  /** Path inside the container. */
  destination: string;
}

export interface HostPathOptions {
  /** Only bind mounts whose source resolves inside this directory are used directly; all others go through Docker. */
  hostRoot: string;
  /** The container's bind mounts (the adapter's inspect). */
  bindMounts(containerId: string): Promise<BindMount[]>;
}

/** Where a container path lives on the host, when it is a plain file directly inside an allowed bind mount. */
interface HostFile {
  dir: string;
  name: string;
}

export function createHostPathAdapter(inner: DockerAdapter, options: HostPathOptions): DockerAdapter {
  const mountTables = new Map<string, Promise<BindMount[]>>();
  let rootReal: Promise<string> | null = null;

  const allowedMounts = async (containerId: string): Promise<BindMount[]> => {
    let table = mountTables.get(containerId);
    if (!table) {
      table = (async () => {
        rootReal ??= fs.realpath(options.hostRoot);
        const root = await rootReal;
        const kept: BindMount[] = [];
        for (const mount of await options.bindMounts(containerId)) {
          const source = await fs.realpath(mount.source).catch(() => null);
          if (source !== null && source.startsWith(root + path.sep)) kept.push({ source, destination: mount.destination });
        }
        return kept;
      })();
      table.catch(() => mountTables.delete(containerId));
      mountTables.set(containerId, table);
      if (mountTables.size > MAX_CACHED_MOUNT_TABLES) mountTables.delete(mountTables.keys().next().value as string);
    }
    return table;
  };

  const hostFile = async (containerId: string, containerPath: string): Promise<HostFile | null> => {
    const dir = path.posix.dirname(containerPath);
    const name = path.posix.basename(containerPath);
    if (!HOST_FILE_NAME.test(name) || name === '.' || name === '..') return null;
    const mount = (await allowedMounts(containerId)).find((m) => m.destination === dir);
    return mount ? { dir: mount.source, name } : null;
  };

  const unsafe = (file: HostFile, what: string) => new DockerAdapterError('ARCHIVE_UNSAFE', `${file.name} ${what}`);

  return {
    ping: () => inner.ping(),
    listAgents: (selector) => inner.listAgents(selector),
    findAgent: (agentId) => inner.findAgent(agentId),
    containerState: (containerId) => inner.containerState(containerId),
    exec: (containerId, argv, execOptions) => inner.exec(containerId, argv, execOptions),

    async stat(containerId, containerPath): Promise<FileStat> {
      const file = await hostFile(containerId, containerPath);
      if (!file) return inner.stat(containerId, containerPath);
      try {
        const stat = await fs.lstat(path.join(file.dir, file.name));
        return { found: true, size: stat.size, mode: stat.mode & 0o7777, isSymlink: stat.isSymbolicLink(), isDirectory: stat.isDirectory() };
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { found: false };
        throw new DockerAdapterError('DOCKER_API_ERROR', `stat ${containerPath} on the host: ${String(err)}`, { cause: err });
      }
    },

    async readFile(containerId, containerPath, maxBytes): Promise<FileRead> {
      const file = await hostFile(containerId, containerPath);
      if (!file) return inner.readFile(containerId, containerPath, maxBytes);
      let handle: fs.FileHandle;
      try {
        handle = await fs.open(path.join(file.dir, file.name), fsConstants.O_RDONLY | fsConstants.O_NOFOLLOW | fsConstants.O_NONBLOCK);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'ENOENT') return { found: false };
        if (code === 'ELOOP') throw unsafe(file, 'is a symbolic link');
        throw new DockerAdapterError('DOCKER_API_ERROR', `read ${containerPath} on the host: ${String(err)}`, { cause: err });
      }
      try {
        const stat = await handle.stat();
        if (!stat.isFile()) throw unsafe(file, 'is not a regular file');
        if (stat.size > maxBytes) throw new DockerAdapterError('ARCHIVE_TOO_LARGE', `${file.name} is ${stat.size} bytes, over the ${maxBytes}-byte bound`);
        const content = Buffer.alloc(stat.size);
        let read = 0;
        while (read < content.length) {
          const { bytesRead } = await handle.read(content, read, content.length - read, read);
          if (bytesRead === 0) break;
          read += bytesRead;
        }
        return { found: true, content: content.subarray(0, read), size: read };
      } finally {
        await handle.close();
      }
    },

    async writeFiles(containerId, dir, files): Promise<void> {
      // One by one, in order, each whole under a temporary name: the signal lands after the program it names.
      const mounted = await hostFile(containerId, `${dir}/x`);
      if (!mounted) return inner.writeFiles(containerId, dir, files);
      for (const f of files) await this.writeFile(containerId, `${dir}/${f.name}`, f.content, f.mode);
    },

    async writeFile(containerId, containerPath, content, mode = 0o644): Promise<void> {
      const file = await hostFile(containerId, containerPath);
      if (!file) return inner.writeFile(containerId, containerPath, content, mode);
      // Written whole under a temporary name, then renamed over the target: a reader sees the old file or the new one.
      const temp = path.join(file.dir, `.${file.name}.${randomBytes(6).toString('hex')}.tmp`);
      try {
        const handle = await fs.open(temp, fsConstants.O_WRONLY | fsConstants.O_CREAT | fsConstants.O_EXCL | fsConstants.O_NOFOLLOW, mode);
        try {
          await handle.writeFile(content);
          // The agent (its own uid) renames and deletes what the injector writes, as with the archive API.
          if (process.getuid?.() === 0) await handle.chown(AGENT_FILE_OWNER.uid, AGENT_FILE_OWNER.gid);
          await handle.chmod(mode);
        } finally {
          await handle.close();
        }
        await fs.rename(temp, path.join(file.dir, file.name));
      } catch (err) {
        await fs.rm(temp, { force: true }).catch(() => undefined);
        throw new DockerAdapterError('DOCKER_API_ERROR', `write ${containerPath} on the host: ${String(err)}`, { cause: err });
      }
    },
  };
}
