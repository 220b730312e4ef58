// A second Docker engine on this machine for multi-host tests: its own dockerd, socket, data root, exec root,
// containerd and network namespace, no bridge and no iptables rules, so it cannot disturb the default engine or the
// host's networking. Needs root, like CI.
import { ChildProcess, spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { finished } from 'node:stream/promises';
import type Docker from 'dockerode';
import { dockerodeFor } from '../../src/docker/dockerode-adapter';

/** How long a fresh dockerd (and the containerd it starts) may take to answer a ping. */
export const ENGINE_START_TIMEOUT_MS = 60_000;
/** How long dockerd may take to stop its containerd and unmount its layers after SIGTERM, before SIGKILL. */
export const ENGINE_STOP_TIMEOUT_MS = 30_000;
/** Copying an image (`docker save | docker load`) between the engines. */
export const IMAGE_COPY_TIMEOUT_MS = 120_000;
const PING_INTERVAL_MS = 250;
const LOG_TAIL_CHARS = 2_000;

export interface SecondEngine {
  /** DOCKER_HOST-style address of the engine: `unix:///…/docker.sock`. */
  dockerHost: string;
  stateDir: string;
  /** Copies an image from the default engine into this one, streamed (no temporary file). */
  copyImageFrom(source: Docker, image: string): Promise<void>;
  /** Stops dockerd (SIGTERM, then SIGKILL after ENGINE_STOP_TIMEOUT_MS) and removes all of its state. */
  stop(): Promise<void>;
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

function logTail(file: string): string {
  try {
    return readFileSync(file, 'utf8').slice(-LOG_TAIL_CHARS);
  } catch {
    return '(no log)';
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} took longer than ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Copies an image from one engine into another, streamed (`docker save | docker load`, no temporary file). */
export async function copyImage(source: Docker, target: Docker, image: string, targetName: string): Promise<void> {
  const copy = async () => {
    const saved = await source.getImage(image).get();
    const response = await target.loadImage(saved, { quiet: true });
    // The load's response is a progress stream: drain it, or the engine never finishes the load.
    response.resume();
    await finished(response);
    await target.getImage(image).inspect();
  };
  await withTimeout(copy(), IMAGE_COPY_TIMEOUT_MS, `copying ${image} into ${targetName}`);
}

/** Starts `dockerd` with every piece of state under a fresh temporary directory; resolves once it answers a ping. */
export async function startSecondEngine(options: { name: string; dockerdPath?: string }): Promise<SecondEngine> {
  // Short: a unix socket path must stay under 108 bytes.
  const stateDir = await mkdtemp(path.join(os.tmpdir(), `oc-engine-${options.name}-`));
  const socket = path.join(stateDir, 'docker.sock');
  const logFile = path.join(stateDir, 'dockerd.log');
  const dockerHost = `unix://${socket}`;
  const args = [
    `--host=${dockerHost}`,
    `--data-root=${path.join(stateDir, 'data')}`,
    `--exec-root=${path.join(stateDir, 'exec')}`,
    `--pidfile=${path.join(stateDir, 'dockerd.pid')}`,
    // Its own containerd namespaces, should both engines ever share one containerd.
    `--containerd-namespace=openclaw-${options.name}`,
    `--containerd-plugins-namespace=openclaw-${options.name}-plugins`,
    // No bridge, no NAT and no firewall rules: the agents run with network mode none anyway. Beware: with --bridge=none
    // dockerd deletes any interface named docker0 it can see at start-up; the private network namespace below is what
    // keeps that from being the host's.
    '--bridge=none',
    '--iptables=false',
    '--ip6tables=false',
    '--ip-masq=false',
    '--ip-forward=false',
  ];
  const log = openSync(logFile, 'a');
  let child: ChildProcess;
  try {
    // `unshare --net` execs dockerd (no fork) in a fresh network namespace: whatever the engine does to links, routes
    // and firewall rules stays there and vanishes with it. The socket is a file, so the host still reaches it.
    child = spawn('unshare', ['--net', '--', options.dockerdPath ?? 'dockerd', ...args], { stdio: ['ignore', log, log] });
  } finally {
    closeSync(log);
  }
  const spawnError = new Promise<never>((_, reject) => {
    child.once('error', (err) =>
      reject(new Error(`could not run unshare (${err.message}); the multi-host test needs util-linux's unshare and dockerd on PATH, and root`)),
    );
    child.once('exit', (code, signal) => reject(new Error(`dockerd exited during start-up (code ${code}, signal ${signal}):\n${logTail(logFile)}`)));
  });
  spawnError.catch(() => undefined);

  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), ENGINE_STOP_TIMEOUT_MS);
      await exited(child);
      clearTimeout(killer);
    }
    await rm(stateDir, { recursive: true, force: true, maxRetries: 3 });
  };

  const docker = dockerodeFor({ dockerHost });
  try {
    const deadline = Date.now() + ENGINE_START_TIMEOUT_MS;
    for (;;) {
      const answered = await Promise.race([
        docker.ping().then(
          () => true,
          () => false,
        ),
        spawnError,
      ]);
      if (answered) break;
      if (Date.now() > deadline) throw new Error(`dockerd did not answer on ${socket} within ${ENGINE_START_TIMEOUT_MS} ms:\n${logTail(logFile)}`);
      await new Promise((resolve) => setTimeout(resolve, PING_INTERVAL_MS));
    }
  } catch (err) {
    await stop();
    throw err;
  }

  return {
    dockerHost,
    stateDir,
    stop,
    copyImageFrom: (source, image) => copyImage(source, docker, image, dockerHost),
  };
}
