// The Docker adapter's interface: what callers see. dockerode stays behind it (dockerode-adapter.ts).

export interface AgentRef {
  agentId: string;
  containerId: string;
  containerName: string;
  group: string | null;
  running: boolean;
  /** The container's dreamnet.runtime label as written (absent: the reference agent); drivers/runtime-drivers.ts reads it. */
  runtime?: string;
  /** The container's dreamnet.protocol label as written (absent: v1 only); negotiateProtocol reads it. */
  protocol?: string;
}

export interface ExecResult {
  stdout: string;
  stderr: string;
  exitCode: number;
}

export type FileRead = { found: true; content: Buffer; size: number } | { found: false };

export type FileStat = { found: true; size: number; mode: number; isSymlink: boolean; isDirectory: boolean } | { found: false };

export interface ContainerState {
  running: boolean;
  /** Docker's word for it: created, running, paused, restarting, removing, exited, dead. */
  status: string;
  health: 'healthy' | 'unhealthy' | 'starting' | 'none';
  /** The container's dreamnet.runtime label as written (absent: the reference agent). */
  runtime?: string;
  /** The container's dreamnet.protocol label as written (absent: v1 only). */
  protocol?: string;
}

export interface AgentSelector {
  group?: string;
  agentIds?: string[];
}

export interface DockerAdapter {
  ping(): Promise<{ version: string; apiVersion: string }>;
  /** Agents by label: all of them, one group, or given ids (both given: both must match). Sorted by agent id. */
  listAgents(selector?: AgentSelector): Promise<AgentRef[]>;
  findAgent(agentId: string): Promise<AgentRef | null>;
  containerState(containerId: string): Promise<ContainerState>;
  /** Size and type of a path without reading it (HEAD on the archive endpoint). */
  stat(containerId: string, path: string): Promise<FileStat>;
  /** getArchive + tar extract; refuses symlinks, entries escaping the path, anything over maxBytes. */
  readFile(containerId: string, path: string, maxBytes: number): Promise<FileRead>;
  /** tar pack + putArchive. Not atomic by itself: the agent protocol stages and renames (see agent-channel.ts). */
  writeFile(containerId: string, path: string, content: Buffer, mode?: number): Promise<void>;
  /**
   * Several files into one directory with one putArchive, written in the order given (protocol v2: the staged program,
   * then the reload signal that names it). Each name is a plain file name.
   */
  writeFiles(containerId: string, dir: string, files: readonly FileToWrite[]): Promise<void>;
  exec(containerId: string, argv: string[], options: ExecOptions): Promise<ExecResult>;
}

export interface FileToWrite {
  name: string;
  content: Buffer;
  mode?: number;
}

export interface ExecOptions {
  timeoutMs: number;
  /** Per stream; output past it is dropped and the result fails with EXEC_OUTPUT_TOO_LARGE. */
  maxOutputBytes?: number;
  user?: string;
}
