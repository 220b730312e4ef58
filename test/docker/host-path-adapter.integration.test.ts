// Host-path transfer mode: agents whose directories are bind mounts under the worker's root are read and written on
// the host (atomically, never through a symlink, never outside the root); everything else still goes through Docker.
import { randomBytes } from 'node:crypto';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { LABEL_GROUP } from '../../src/agent/protocol';
import { createAgentChannel, createDockerAdapter, DockerAdapter } from '../../src/docker';
import { createSwarmManager, StartedAgent } from '../../src/docker/agent-swarm';
import { createHostPathAdapter } from '../../src/docker/host-path-adapter';
import { ensureAgentImage, reloadAndTrace, TEST_LABEL, testDockerConnection, waitUntilReady } from '../support/agents';
import { formatTrustedKeys } from '../../src/signing/keys';
import { buildProgram, REDUCE_15 } from '../support/programs';
import { testSigningKey, trustedKeysOf } from '../support/signing';

const dataDir = mkdtempSync(path.join(os.tmpdir(), 'openclaw-host-path-'));
const group = `hostpath-${randomBytes(3).toString('hex')}`;
const signingKey = testSigningKey();
const swarm = createSwarmManager(testDockerConnection());
let agent: StartedAgent;
let hostAdapter: DockerAdapter;

/** The archive API, recording the paths of its file calls: a host-path agent must not cost any. */
function recordingApi(inner: DockerAdapter): { adapter: DockerAdapter; paths: string[] } {
  const paths: string[] = [];
  return {
    adapter: {
      ping: () => inner.ping(),
      listAgents: (s) => inner.listAgents(s),
      findAgent: (id) => inner.findAgent(id),
      containerState: (id) => inner.containerState(id),
      exec: (id, argv, o) => inner.exec(id, argv, o),
      stat: (id, p) => (paths.push(p), inner.stat(id, p)),
      readFile: (id, p, max) => (paths.push(p), inner.readFile(id, p, max)),
      writeFile: (id, p, c, m) => (paths.push(p), inner.writeFile(id, p, c, m)),
      writeFiles: (id, dir, files) => (paths.push(...files.map((f) => `${dir}/${f.name}`)), inner.writeFiles(id, dir, files)),
    },
    paths,
  };
}

beforeAll(async () => {
  const image = await ensureAgentImage();
  [agent] = await swarm.up({ count: 1, group, prefix: group, image, trustedKeys: formatTrustedKeys(trustedKeysOf(signingKey)), hostDataDir: dataDir, extraLabels: { [TEST_LABEL]: '1' } });
  hostAdapter = createDockerAdapter({ ...testDockerConnection(), hostPathRoot: dataDir });
  await waitUntilReady(hostAdapter, [agent.containerId]);
}, 180_000);

afterAll(async () => {
  await swarm.down({ [TEST_LABEL]: '1', [LABEL_GROUP]: group });
  rmSync(dataDir, { recursive: true, force: true });
});

const programsDir = () => path.join(dataDir, agent.agentId, 'programs');

describe('host-path transfer mode', () => {
  test('an injection through the channel runs with no archive call, and the files land owned by the agent', async () => {
    const api = createDockerAdapter(testDockerConnection());
    const recorded = recordingApi(api);
    const adapter = createHostPathAdapter(recorded.adapter, {
      hostRoot: dataDir,
      bindMounts: async () => [
        { source: programsDir(), destination: '/app/injected-programs' },
        { source: path.join(dataDir, agent.agentId, 'logs'), destination: '/app/logs' },
      ],
    });
    const reloadId = `hp-${randomBytes(4).toString('hex')}`;
    const program = await buildProgram([REDUCE_15], { key: signingKey, agentId: agent.agentId, reloadId });
    const { trace } = await reloadAndTrace(createAgentChannel(adapter), agent.containerId, reloadId, program);
    expect(trace.final).toMatchObject({ status: 'completed', programId: reloadId });
    expect(recorded.paths).toEqual([]);
    // What the agent itself sees, read through the Docker API: it runs the program the host path delivered.
    expect((await api.readFile(agent.containerId, '/app/injected-programs/program.bc', 1 << 20)).found).toBe(true);
    expect(await createAgentChannel(api).current(agent.containerId)).toMatchObject({ programId: reloadId, reloadId });
    expect(lstatSync(path.join(programsDir(), 'RELOAD_SIGNAL')).uid).toBe(process.getuid?.() === 0 ? 1000 : process.getuid?.());
    expect(readdirSync(programsDir()).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  test('the default adapter finds the bind mounts itself (inspect) and uses them', async () => {
    const reloadId = `hp-${randomBytes(4).toString('hex')}`;
    const { trace } = await reloadAndTrace(createAgentChannel(hostAdapter), agent.containerId, reloadId, await buildProgram([REDUCE_15], { key: signingKey, agentId: agent.agentId, reloadId }));
    expect(trace.final).toMatchObject({ status: 'completed', programId: reloadId });
  });

  test('a symlink planted by the agent is refused on read and replaced, never followed, on write', async () => {
    const outside = path.join(dataDir, 'outside.txt');
    writeFileSync(outside, 'secret');
    const link = path.join(programsDir(), 'planted');
    symlinkSync(outside, link);
    await expect(hostAdapter.readFile(agent.containerId, '/app/injected-programs/planted', 1024)).rejects.toMatchObject({ code: 'ARCHIVE_UNSAFE' });
    expect(await hostAdapter.stat(agent.containerId, '/app/injected-programs/planted')).toMatchObject({ found: true, isSymlink: true });
    await hostAdapter.writeFile(agent.containerId, '/app/injected-programs/planted', Buffer.from('new'));
    expect(lstatSync(link).isSymbolicLink()).toBe(false);
    expect(await hostAdapter.readFile(agent.containerId, '/app/injected-programs/planted', 1024)).toMatchObject({ found: true, content: Buffer.from('new') });
    expect(existsSync(outside) && lstatSync(outside).size).toBe(6);
  });

  test('mounts outside the root, and paths that are not directly in a mount, go through the Docker API', async () => {
    mkdirSync(path.join(dataDir, 'elsewhere'));
    const recorded = recordingApi(createDockerAdapter(testDockerConnection()));
    const mounts = async () => [{ source: programsDir(), destination: '/app/injected-programs' }];
    await createHostPathAdapter(recorded.adapter, { hostRoot: path.join(dataDir, 'elsewhere'), bindMounts: mounts }).readFile(agent.containerId, '/app/injected-programs/CURRENT', 2048);
    await createHostPathAdapter(recorded.adapter, { hostRoot: dataDir, bindMounts: mounts }).readFile(agent.containerId, '/app/runtime/package.json', 1 << 20);
    expect(recorded.paths).toEqual(['/app/injected-programs/CURRENT', '/app/runtime/package.json']);
  });
});
