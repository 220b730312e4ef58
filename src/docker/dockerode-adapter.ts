// DockerAdapter on dockerode: label discovery, bounded archive I/O, exec with demux + exit code; errors classified.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import type { IncomingMessage } from 'node:http';
import Docker from 'dockerode';
import { AGENT_NAME_PATTERN, LABEL_AGENT_ID, LABEL_GROUP, LABEL_PROTOCOL, LABEL_ROLE, LABEL_ROLE_AGENT } from '../agent/protocol';
import { DockerAdapterError, isDockerAdapterError } from './errors';
import { LABEL_RUNTIME } from './drivers/runtime-driver';
import { extractSingleFile, packFiles, packSingleFile } from './tar-archive';
import type { AgentRef, AgentSelector, ContainerState, DockerAdapter, ExecOptions, ExecResult, FileRead, FileStat, FileToWrite } from './types';

/** Every single Docker API call (not exec's run time, which has its own timeout) ends by this. */
export const DEFAULT_CALL_TIMEOUT_MS = 15_000;
export const DEFAULT_EXEC_MAX_OUTPUT_BYTES = 1024 * 1024;
export const MAX_AGENTS_LISTED = 50_000;
export const MAX_SELECTOR_IDS = 10_000;
export const MAX_CONTAINER_PATH_CHARS = 4096;
/** Files written by the adapter belong to the reference agent's user (uid/gid 1000) so the agent can rename them. */
export const AGENT_FILE_OWNER = { uid: 1000, gid: 1000 } as const;

export interface DockerConnectionOptions {
  dockerHost: string;
  tlsVerify?: boolean;
  certPath?: string;
  callTimeoutMs?: number;
}

export function dockerodeFor(options: DockerConnectionOptions): Docker {
  const host = options.dockerHost;
  if (host.startsWith('unix://')) return new Docker({ socketPath: host.slice('unix://'.length) });
  if (host.startsWith('npipe:')) return new Docker({ socketPath: host.replace(/^npipe:\/*/, '//') });
  const match = /^tcp:\/\/([^:/\s]+):(\d{1,5})\/?$/.exec(host);
  if (!match) throw new DockerAdapterError('INVALID_ARGUMENT', `DOCKER_HOST ${JSON.stringify(host)} is not unix:///path, npipe:… or tcp://host:port`);
  const [, hostname, port] = match;
  if (!options.tlsVerify) return new Docker({ host: hostname, port: Number(port), protocol: 'http' });
  if (!options.certPath) throw new DockerAdapterError('INVALID_ARGUMENT', 'TLS needs a certificate directory (DOCKER_CERT_PATH)');
  const read = (file: string) => readFileSync(path.join(options.certPath as string, file));
  return new Docker({ host: hostname, port: Number(port), protocol: 'https', ca: read('ca.pem'), cert: read('cert.pem'), key: read('key.pem') });
}

interface DockerodeError {
  statusCode?: number;
  code?: string;
  name?: string;
  message?: string;
}

function asDockerodeError(err: unknown): DockerodeError {
  return typeof err === 'object' && err !== null ? (err as DockerodeError) : { message: String(err) };
}

const UNAVAILABLE_CODES = new Set(['ECONNREFUSED', 'ENOENT', 'EACCES', 'ECONNRESET', 'EPIPE', 'EHOSTUNREACH', 'ENOTFOUND', 'ETIMEDOUT']);

/** Maps a dockerode/transport failure to a typed error. `what` names the operation for the message. */
export function classifyDockerError(err: unknown, what: string, containerId?: string): DockerAdapterError {
  if (isDockerAdapterError(err)) return err;
  const e = asDockerodeError(err);
  const detail = e.message ?? 'unknown error';
  if (e.name === 'AbortError' || e.name === 'TimeoutError' || e.code === 'ABORT_ERR') {
    return new DockerAdapterError('DOCKER_TIMEOUT', `${what}: the Docker engine did not answer in time`, { cause: err });
  }
  if (e.code && UNAVAILABLE_CODES.has(e.code)) {
    return new DockerAdapterError('DOCKER_UNAVAILABLE', `${what}: the Docker engine is unreachable (${e.code})`, { cause: err });
  }
  switch (e.statusCode) {
    case 404:
      return new DockerAdapterError('CONTAINER_NOT_FOUND', `${what}: container ${containerId ?? ''} does not exist`, { cause: err });
    case 409:
      return new DockerAdapterError('CONTAINER_NOT_RUNNING', `${what}: container ${containerId ?? ''} is not running`, { cause: err });
    case 400:
    case 403:
      return new DockerAdapterError('DOCKER_API_ERROR', `${what}: ${detail}`, { cause: err, retryable: false });
    default:
      return new DockerAdapterError('DOCKER_API_ERROR', `${what}: ${detail}`, { cause: err });
  }
}

function assertContainerPath(p: string): void {
  if (!p.startsWith('/') || p.length > MAX_CONTAINER_PATH_CHARS || p.includes('\0') || p.split('/').includes('..') || p.endsWith('/')) {
    throw new DockerAdapterError('INVALID_ARGUMENT', `container path ${JSON.stringify(p.slice(0, 200))} must be absolute, name a file, and hold no '..'`);
  }
}

type ContainerSummary = Awaited<ReturnType<Docker['listContainers']>>[number];

function toAgentRef(summary: ContainerSummary): AgentRef | null {
  const labels = summary.Labels ?? {};
  const agentId = labels[LABEL_AGENT_ID];
  if (!agentId || !AGENT_NAME_PATTERN.test(agentId)) return null;
  const group = labels[LABEL_GROUP];
  return {
    agentId,
    containerId: summary.Id,
    containerName: (summary.Names?.[0] ?? summary.Id).replace(/^\//, ''),
    group: group && AGENT_NAME_PATTERN.test(group) ? group : null,
    running: summary.State === 'running',
    ...(labels[LABEL_RUNTIME] !== undefined ? { runtime: labels[LABEL_RUNTIME] } : {}),
    ...(labels[LABEL_PROTOCOL] !== undefined ? { protocol: labels[LABEL_PROTOCOL] } : {}),
  };
}

export class DockerodeAdapter implements DockerAdapter {
  private readonly callTimeoutMs: number;

  constructor(
    private readonly docker: Docker,
    options: { callTimeoutMs?: number } = {},
  ) {
    this.callTimeoutMs = options.callTimeoutMs ?? DEFAULT_CALL_TIMEOUT_MS;
  }

  private signal(): AbortSignal {
    return AbortSignal.timeout(this.callTimeoutMs);
  }

  async ping(): Promise<{ version: string; apiVersion: string }> {
    try {
      // dockerode accepts options on version() though its typings do not say so.
      const withOptions = this.docker as unknown as { version(opts: { abortSignal: AbortSignal }): Promise<Docker.DockerVersion> };
      const version = await withOptions.version({ abortSignal: this.signal() });
      return { version: version.Version, apiVersion: version.ApiVersion };
    } catch (err) {
      throw classifyDockerError(err, 'ping');
    }
  }

  async listAgents(selector: AgentSelector = {}): Promise<AgentRef[]> {
    const labels = [`${LABEL_ROLE}=${LABEL_ROLE_AGENT}`];
    if (selector.group !== undefined) {
      if (!AGENT_NAME_PATTERN.test(selector.group)) throw new DockerAdapterError('INVALID_ARGUMENT', `group ${JSON.stringify(selector.group)} is not a valid group name`);
      labels.push(`${LABEL_GROUP}=${selector.group}`);
    }
    let wanted: Set<string> | null = null;
    if (selector.agentIds !== undefined) {
      if (selector.agentIds.length > MAX_SELECTOR_IDS) throw new DockerAdapterError('INVALID_ARGUMENT', `at most ${MAX_SELECTOR_IDS} agent ids per query`);
      const bad = selector.agentIds.find((id) => !AGENT_NAME_PATTERN.test(id));
      if (bad !== undefined) throw new DockerAdapterError('INVALID_ARGUMENT', `agent id ${JSON.stringify(bad)} is not a valid agent id`);
      wanted = new Set(selector.agentIds);
      // One id: let the engine filter. Many: filter here (label filters on the same key are ANDed by Docker).
      if (wanted.size === 1) labels.push(`${LABEL_AGENT_ID}=${selector.agentIds[0]}`);
    }
    let summaries: ContainerSummary[];
    try {
      summaries = await this.docker.listContainers({ all: true, filters: { label: labels }, abortSignal: this.signal() });
    } catch (err) {
      throw classifyDockerError(err, 'list agents');
    }
    if (summaries.length > MAX_AGENTS_LISTED) {
      throw new DockerAdapterError('INVALID_ARGUMENT', `${summaries.length} agent containers match, over the ${MAX_AGENTS_LISTED} bound: select a group`);
    }
    const refs = summaries.map(toAgentRef).filter((ref): ref is AgentRef => ref !== null && (wanted === null || wanted.has(ref.agentId)));
    return refs.sort((a, b) => (a.agentId < b.agentId ? -1 : a.agentId > b.agentId ? 1 : a.containerId < b.containerId ? -1 : 1));
  }

  async findAgent(agentId: string): Promise<AgentRef | null> {
    const matches = await this.listAgents({ agentIds: [agentId] });
    // Two containers claiming one id: prefer the running one, so a stale stopped copy does not shadow it.
    return matches.find((m) => m.running) ?? matches[0] ?? null;
  }

  async containerState(containerId: string): Promise<ContainerState> {
    try {
      const info = await this.docker.getContainer(containerId).inspect({ abortSignal: this.signal() });
      const health = info.State.Health?.Status;
      return {
        running: info.State.Running === true && info.State.Paused !== true,
        status: info.State.Status,
        health: health === 'healthy' || health === 'unhealthy' || health === 'starting' ? health : 'none',
        ...(info.Config?.Labels?.[LABEL_RUNTIME] !== undefined ? { runtime: info.Config.Labels[LABEL_RUNTIME] } : {}),
        ...(info.Config?.Labels?.[LABEL_PROTOCOL] !== undefined ? { protocol: info.Config.Labels[LABEL_PROTOCOL] } : {}),
      };
    } catch (err) {
      throw classifyDockerError(err, 'inspect', containerId);
    }
  }

  /** The container's bind mounts (host source, container destination), for the host-path transfer mode. */
  async bindMounts(containerId: string): Promise<Array<{ source: string; destination: string }>> {
    try {
      const info = await this.docker.getContainer(containerId).inspect({ abortSignal: this.signal() });
      return (info.Mounts ?? []).filter((m) => m.Type === 'bind').map((m) => ({ source: m.Source, destination: m.Destination }));
    } catch (err) {
      throw classifyDockerError(err, 'inspect mounts', containerId);
    }
  }

  /** A 404 from the archive endpoint means "no such path" or "no such container": inspect tells which. */
  private async absentOrGone(err: unknown, what: string, containerId: string): Promise<{ found: false }> {
    if (asDockerodeError(err).statusCode !== 404) throw classifyDockerError(err, what, containerId);
    await this.containerState(containerId);
    return { found: false };
  }

  async stat(containerId: string, filePath: string): Promise<FileStat> {
    assertContainerPath(filePath);
    let response: IncomingMessage;
    try {
      response = (await this.docker.getContainer(containerId).infoArchive({ path: filePath, abortSignal: this.signal() })) as IncomingMessage;
    } catch (err) {
      return this.absentOrGone(err, `stat ${filePath}`, containerId);
    }
    response.resume();
    const header = response.headers['x-docker-container-path-stat'];
    if (typeof header !== 'string') throw new DockerAdapterError('DOCKER_API_ERROR', `stat ${filePath}: the engine sent no path stat header`);
    let parsed: unknown;
    try {
      parsed = JSON.parse(Buffer.from(header, 'base64').toString('utf8'));
    } catch (err) {
      throw new DockerAdapterError('DOCKER_API_ERROR', `stat ${filePath}: unreadable path stat header`, { cause: err });
    }
    const stat = parsed as { size?: unknown; mode?: unknown; linkTarget?: unknown };
    if (typeof stat.size !== 'number' || typeof stat.mode !== 'number') {
      throw new DockerAdapterError('DOCKER_API_ERROR', `stat ${filePath}: path stat header lacks size or mode`);
    }
    // Go's os.FileMode: ModeDir is bit 31, ModeSymlink bit 27.
    const isDirectory = (stat.mode & 0x80000000) !== 0 || stat.mode < 0;
    const isSymlink = (stat.mode & 0x08000000) !== 0 || (typeof stat.linkTarget === 'string' && stat.linkTarget !== '');
    return { found: true, size: stat.size, mode: stat.mode & 0o7777, isSymlink, isDirectory };
  }

  async readFile(containerId: string, filePath: string, maxBytes: number): Promise<FileRead> {
    assertContainerPath(filePath);
    if (!Number.isSafeInteger(maxBytes) || maxBytes < 0) throw new DockerAdapterError('INVALID_ARGUMENT', `maxBytes must be a non-negative integer`);
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(new DOMException('archive read timed out', 'TimeoutError')), this.callTimeoutMs);
    try {
      let stream: Readable;
      try {
        stream = (await this.docker.getContainer(containerId).getArchive({ path: filePath, abortSignal: controller.signal })) as Readable;
      } catch (err) {
        return await this.absentOrGone(err, `read ${filePath}`, containerId);
      }
      const { content, size } = await extractSingleFile(stream, path.posix.basename(filePath), maxBytes);
      return { found: true, content, size };
    } catch (err) {
      if (controller.signal.aborted) throw new DockerAdapterError('DOCKER_TIMEOUT', `read ${filePath}: no complete archive in ${this.callTimeoutMs} ms`, { cause: err });
      throw classifyDockerError(err, `read ${filePath}`, containerId);
    } finally {
      clearTimeout(timer);
    }
  }

  async writeFile(containerId: string, filePath: string, content: Buffer, mode = 0o644): Promise<void> {
    assertContainerPath(filePath);
    await this.putArchive(containerId, path.posix.dirname(filePath), await packSingleFile(path.posix.basename(filePath), content, mode, AGENT_FILE_OWNER), `write ${filePath}`);
  }

  async writeFiles(containerId: string, dir: string, files: readonly FileToWrite[]): Promise<void> {
    assertContainerPath(dir);
    if (files.length === 0) return;
    await this.putArchive(containerId, dir, await packFiles(files, AGENT_FILE_OWNER), `write ${files.map((f) => f.name).join(', ')} into ${dir}`);
  }

  private async putArchive(containerId: string, dir: string, archive: Buffer, what: string): Promise<void> {
    try {
      const response: unknown = await this.docker.getContainer(containerId).putArchive(archive, { path: dir, abortSignal: this.signal() });
      if (response instanceof Readable) response.resume();
    } catch (err) {
      throw classifyDockerError(err, what, containerId);
    }
  }

  async exec(containerId: string, argv: string[], options: ExecOptions): Promise<ExecResult> {
    if (!Array.isArray(argv) || argv.length === 0 || argv.some((a) => typeof a !== 'string' || a.includes('\0'))) {
      throw new DockerAdapterError('INVALID_ARGUMENT', 'exec takes a non-empty argv array of strings');
    }
    const maxOutputBytes = options.maxOutputBytes ?? DEFAULT_EXEC_MAX_OUTPUT_BYTES;
    const container = this.docker.getContainer(containerId);
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(new DOMException('exec timed out', 'TimeoutError')), options.timeoutMs);
    try {
      const exec = await container.exec({
        Cmd: argv,
        AttachStdout: true,
        AttachStderr: true,
        AttachStdin: false,
        Tty: false,
        ...(options.user ? { User: options.user } : {}),
        abortSignal: controller.signal,
      });
      const stream = await exec.start({ hijack: true, stdin: false, abortSignal: controller.signal });
      const stdout = new BoundedSink(maxOutputBytes);
      const stderr = new BoundedSink(maxOutputBytes);
      await new Promise<void>((resolve, reject) => {
        const out = new PassThrough();
        const err = new PassThrough();
        out.on('data', (c: Buffer) => stdout.push(c));
        err.on('data', (c: Buffer) => stderr.push(c));
        this.docker.modem.demuxStream(stream, out, err);
        const onAbort = () => {
          stream.destroy();
          reject(new DockerAdapterError('DOCKER_TIMEOUT', `exec ${argv[0]} ran past ${options.timeoutMs} ms`));
        };
        controller.signal.addEventListener('abort', onAbort, { once: true });
        stream.on('end', () => resolve());
        stream.on('close', () => resolve());
        stream.on('error', (e: Error) => reject(e));
      });
      const info = await exec.inspect({ abortSignal: controller.signal });
      if (stdout.overflowed || stderr.overflowed) {
        throw new DockerAdapterError('EXEC_OUTPUT_TOO_LARGE', `exec ${argv[0]} wrote more than ${maxOutputBytes} bytes to a stream`);
      }
      if (info.Running) throw new DockerAdapterError('EXEC_FAILED', `exec ${argv[0]}: output ended but the process is still running`, { retryable: true });
      return { stdout: stdout.text(), stderr: stderr.text(), exitCode: info.ExitCode ?? -1 };
    } catch (err) {
      if (controller.signal.aborted && !isDockerAdapterError(err)) {
        throw new DockerAdapterError('DOCKER_TIMEOUT', `exec ${argv[0]} ran past ${options.timeoutMs} ms`, { cause: err });
      }
      const status = asDockerodeError(err).statusCode;
      if (status === 409 || status === 500) {
        // Engines answer 409 or 500 when the container is not running; ask rather than read the message.
        const state = await this.containerState(containerId);
        if (!state.running) throw new DockerAdapterError('CONTAINER_NOT_RUNNING', `exec ${argv[0]}: container ${containerId} is ${state.status}`, { cause: err });
      }
      throw classifyDockerError(err, `exec ${argv[0]}`, containerId);
    } finally {
      clearTimeout(timer);
    }
  }
}

class BoundedSink {
  private readonly chunks: Buffer[] = [];
  private size = 0;
  overflowed = false;

  constructor(private readonly maxBytes: number) {}

  push(chunk: Buffer): void {
    if (this.size + chunk.length > this.maxBytes) {
      this.overflowed = true;
      return;
    }
    this.size += chunk.length;
    this.chunks.push(chunk);
  }

  text(): string {
    return Buffer.concat(this.chunks).toString('utf8');
  }
}
