// Docker tier: the OpenClaw driver on three real gateway containers (about 0.9 GB each: started once, removed after).
import { createHash } from 'node:crypto';
import Docker from 'dockerode';
import { compile } from '../../src/compiler';
import type { DockerAdapter } from '../../src/docker';
import { dockerodeFor } from '../../src/docker/dockerode-adapter';
import { OPENCLAW_DEFAULTS, OpenClawDriver } from '../../src/docker/drivers/openclaw-driver';
import type { DriverProgram } from '../../src/docker/drivers/runtime-driver';
import { DEFAULT_SKILL_NAME, SIMULATED_FAILURE_BIN } from '../../src/openclaw/skill-bundle';
import { testDockerConnection } from '../support/agents';
import { eventually, readInContainer, startTestGateways, TestGateways, workspaceSkill, writeInContainer } from './gateways';

/** Each skills.status call starts the OpenClaw CLI: 3 s on an idle host, 10-20 s on a loaded one. */
const CALL = { timeoutMs: 120_000 };
const TEST_TIMEOUT_MS = 600_000;
const SKILL_FILE = `${OPENCLAW_DEFAULTS.skillsDir}/${DEFAULT_SKILL_NAME}/SKILL.md`;

function program(source: string, programId: string): DriverProgram {
  const result = compile(source, {}, { programId });
  if (!result.ok || !result.bytecode) throw new Error(`does not compile: ${JSON.stringify(result.diagnostics)}`);
  return { programId, sha256: createHash('sha256').update(result.bytecode).digest('hex'), bytes: result.bytecode };
}

let env: TestGateways;
let driver: OpenClawDriver;
const id = (n: number) => env.gateways[n].containerId;

beforeAll(async () => {
  env = await startTestGateways(3, 'drv');
  driver = new OpenClawDriver(env.adapter);
}, TEST_TIMEOUT_MS);

afterAll(async () => {
  await env?.remove();
});

describe('the OpenClaw driver on real gateways', () => {
  it('installs the program on every gateway, each of which lists the skill eligible from the bundle written', async () => {
    const first = program('REDUCE_COSTS BY 15% { BUDGET: $500 }', 'oc-first');
    const results = await Promise.all(env.gateways.map((g) => driver.install(g.containerId, 'oc-first', first, CALL)));
    for (const result of results) {
      expect(result.error).toBeUndefined();
      expect(result.ok).toBe(true);
      expect(result.replaced).toBeNull();
      expect(result.trace.final).toMatchObject({ final: true, status: 'completed', injectionId: 'oc-first' });
      expect(result.trace.lines.some((l) => l.instruction === 'skills.status' && (l.gateway as { eligible?: boolean }).eligible === true)).toBe(true);
    }
    for (const gateway of env.gateways) {
      const skill = await workspaceSkill(env.adapter, gateway.containerId, DEFAULT_SKILL_NAME);
      expect(skill).toMatchObject({ eligible: true, filePath: SKILL_FILE });
      expect(skill?.description).toContain('"oc-first"');
      expect(await driver.current(gateway.containerId)).toEqual({ programId: 'oc-first', reloadId: 'oc-first', sha256: first.sha256 });
      expect(await driver.touchedBy(gateway.containerId, 'oc-first')).toBe(true);
      expect(await driver.touchedBy(gateway.containerId, 'oc-never')).toBe(false);
    }
  }, TEST_TIMEOUT_MS);

  it('acts once per reload id: installing the same reload again switches nothing', async () => {
    const again = await driver.install(id(0), 'oc-first', program('REDUCE_COSTS BY 15% { BUDGET: $500 }', 'oc-first'), CALL);
    expect(again.ok).toBe(true);
    expect(again.trace.lines[0]).toMatchObject({ instruction: 'switch', outcome: 'already' });
  }, TEST_TIMEOUT_MS);

  it('restores the previous revision, which skills.status confirms, and a superseded restore touches nothing', async () => {
    const second = program('OPTIMIZE_THROUGHPUT BY 20%', 'oc-second');
    const installed = await driver.install(id(1), 'oc-second', second, CALL);
    expect(installed.ok).toBe(true);
    expect(installed.replaced).toMatchObject({ reloadId: 'oc-first', programId: 'oc-first' });
    expect((await workspaceSkill(env.adapter, id(1), DEFAULT_SKILL_NAME))?.description).toContain('"oc-second"');

    const stale = await driver.restore(id(1), 'oc-first', CALL);
    expect(stale.outcome).toBe('superseded');
    expect(stale.current).toMatchObject({ reloadId: 'oc-second' });
    expect((await workspaceSkill(env.adapter, id(1), DEFAULT_SKILL_NAME))?.description).toContain('"oc-second"');

    const restored = await driver.restore(id(1), 'oc-second', CALL);
    expect(restored.outcome).toBe('restored');
    expect(restored.current).toMatchObject({ reloadId: 'oc-first', programId: 'oc-first' });
    const skill = await workspaceSkill(env.adapter, id(1), DEFAULT_SKILL_NAME);
    expect(skill).toMatchObject({ eligible: true });
    expect(skill?.description).toContain('"oc-first"');
    expect(await driver.current(id(1))).toMatchObject({ reloadId: 'oc-first' });

    const retried = await driver.restore(id(1), 'oc-second', CALL);
    expect(retried.outcome).toBe('restored');
    expect(await driver.current(id(1))).toMatchObject({ reloadId: 'oc-first' });
  }, TEST_TIMEOUT_MS);

  it('removes the skill when the reload replaced nothing, and the gateway stops listing it', async () => {
    const restored = await driver.restore(id(0), 'oc-first', CALL);
    expect(restored.outcome).toBe('restored');
    expect(restored.current).toBeNull();
    expect(await workspaceSkill(env.adapter, id(0), DEFAULT_SKILL_NAME)).toBeUndefined();
    expect(await driver.current(id(0))).toBeNull();
    expect(await driver.restore(id(0), 'oc-never', CALL)).toEqual({ outcome: 'nothing-to-undo', current: null });
  }, TEST_TIMEOUT_MS);

  it('fails an install whose skill the gateway finds ineligible, and restore puts the previous one back', async () => {
    const failing = program('SIMULATE_FAILURE { MESSAGE: "canary must fail" }', 'oc-ineligible');
    const result = await driver.install(id(2), 'oc-ineligible', failing, CALL);
    expect(result.ok).toBe(false);
    expect(result.error?.code).toBe('SKILL_INELIGIBLE');
    expect(result.error?.message).toContain(SIMULATED_FAILURE_BIN);
    expect(result.trace.final).toMatchObject({ status: 'error', error: { code: 'SKILL_INELIGIBLE' } });
    const listed = await workspaceSkill(env.adapter, id(2), DEFAULT_SKILL_NAME);
    expect(listed).toMatchObject({ eligible: false, missing: expect.objectContaining({ bins: [SIMULATED_FAILURE_BIN] }) });

    const restored = await driver.restore(id(2), 'oc-ineligible', CALL);
    expect(restored.outcome).toBe('restored');
    expect(restored.current).toMatchObject({ reloadId: 'oc-first' });
    const back = await workspaceSkill(env.adapter, id(2), DEFAULT_SKILL_NAME);
    expect(back).toMatchObject({ eligible: true });
    expect(back?.description).toContain('"oc-first"');
  }, TEST_TIMEOUT_MS);

  it('never touches a user’s own skills: beside ours, or under the name the driver manages', async () => {
    const userSkill = `${OPENCLAW_DEFAULTS.skillsDir}/my-own-skill/SKILL.md`;
    const userText = '---\nname: my-own-skill\ndescription: "A skill the user wrote."\n---\n\n# Mine\n';
    await writeInContainer(env.adapter, id(0), userSkill, userText);
    const seen = await eventually(() => workspaceSkill(env.adapter, id(0), 'my-own-skill'), (s) => s?.eligible === true);
    expect(seen).toMatchObject({ eligible: true });

    const ours = await driver.install(id(0), 'oc-beside', program('REDUCE_COSTS BY 3%', 'oc-beside'), CALL);
    expect(ours.ok).toBe(true);
    expect((await driver.restore(id(0), 'oc-beside', CALL)).outcome).toBe('restored');
    expect(await readInContainer(env.adapter, id(0), userSkill)).toBe(userText);
    expect(await workspaceSkill(env.adapter, id(0), 'my-own-skill')).toMatchObject({ eligible: true });

    const squatted = `${OPENCLAW_DEFAULTS.skillsDir}/users-name/SKILL.md`;
    const squattedText = '---\nname: users-name\ndescription: "Also the user\'s."\n---\n\n# Theirs\n';
    await writeInContainer(env.adapter, id(0), squatted, squattedText);
    const sameName = new OpenClawDriver(env.adapter, { skillName: 'users-name' });
    const refused = await sameName.install(id(0), 'oc-squat', program('REDUCE_COSTS BY 4%', 'oc-squat'), CALL);
    expect(refused.ok).toBe(false);
    expect(refused.error?.code).toBe('SKILL_NOT_OURS');
    expect(await readInContainer(env.adapter, id(0), squatted)).toBe(squattedText);
    expect(await sameName.touchedBy(id(0), 'oc-squat')).toBe(false);
    expect(await sameName.restore(id(0), 'oc-squat', CALL)).toEqual({ outcome: 'nothing-to-undo', current: null });
    expect(await readInContainer(env.adapter, id(0), squatted)).toBe(squattedText);
  }, TEST_TIMEOUT_MS);

  it('reports a gateway stopped mid-install as not running', async () => {
    const docker: Docker = dockerodeFor(testDockerConnection());
    // Stops the container as the driver starts asking the gateway: after the switch, before any answer.
    const exec: DockerAdapter['exec'] = async (containerId, argv, options) => {
      if (argv.includes('status')) await docker.getContainer(containerId).stop({ t: 0 });
      return env.adapter.exec(containerId, argv, options);
    };
    const stopping = new Proxy(env.adapter, {
      get: (target, key) => (key === 'exec' ? exec : (Reflect.get(target, key) as unknown)),
    });
    const result = await new OpenClawDriver(stopping).install(id(2), 'oc-stopped', program('REDUCE_COSTS BY 7%', 'oc-stopped'), CALL);
    expect(result.ok).toBe(false);
    expect(result.error?.code).toBe('CONTAINER_NOT_RUNNING');
    expect(result.trace.final).toMatchObject({ status: 'error', error: { code: 'CONTAINER_NOT_RUNNING' } });
    expect((await env.adapter.containerState(id(2))).running).toBe(false);
  }, TEST_TIMEOUT_MS);
});
