// SCALE-TEST TOOL, never used by the product: an in-process fleet of simulated agents behind the same interfaces the
// Docker activities use (the adapter's agent lookups and the AgentChannel). Each simulated agent follows the agent
// protocol — verifies the sealed program (signature, target, reload, expiry, sequence), runs it in the real VM with instant handlers, writes trace lines and
// CURRENT — with zero I/O latency, so what a run measures is Temporal's own overhead.
import { createHash } from 'node:crypto';
import { SigningKeyPair, TrustedKeys } from '../../src/signing/keys';
import { verifyForAgent } from '../../src/signing/verify';
import { runProgram } from '../../src/bytecode/vm';
import { ValueTag } from '../../src/bytecode/instructions';
import type { AgentChannel, CurrentProgramRef, TraceLine, TraceResult } from '../../src/docker/agent-channel';
import { canonicalAgentContainerName } from '../../src/docker/agent-identity';
import { DockerAdapterError } from '../../src/docker/errors';
import type { AgentRef, AgentSelector, DockerAdapter, FileRead } from '../../src/docker/types';

export const FLEET_AGENT_PREFIX = 'sim';

interface SimulatedAgent {
  ref: AgentRef;
  files: Map<string, Buffer>;
  log: TraceLine[];
  current: CurrentProgramRef | null;
  seen: Set<string>;
  lastSequence: number | null;
  injections: number;
}

export interface FleetDriver {
  docker: Pick<DockerAdapter, 'ping' | 'listAgents' | 'findAgent' | 'readFile' | 'writeFile' | 'containerState'>;
  channel: AgentChannel;
  /** How many reloads each agent acted on, per reload id: the "injected twice" check. */
  reloadsActedOn(agentId: string): number;
  current(agentId: string): CurrentProgramRef | null;
  /** Size of the program file the agent runs now (0: none). */
  programBytes(agentId: string): number;
  agentIds(): string[];
  /** The key its agents verify programs with. */
  signingKey: SigningKeyPair;
}

export function createFleetDriver(options: { count: number; group: string; signingKey: SigningKeyPair }): FleetDriver {
  const trustedKeys: TrustedKeys = new Map([[options.signingKey.keyId, options.signingKey.publicKey]]);
  const agents = new Map<string, SimulatedAgent>();
  const byContainer = new Map<string, SimulatedAgent>();
  for (let i = 0; i < options.count; i++) {
    const agentId = `${FLEET_AGENT_PREFIX}-${options.group}-${i}`;
    const containerId = createHash('sha256').update(agentId).digest('hex');
    const agent: SimulatedAgent = {
      ref: { agentId, containerId, containerName: canonicalAgentContainerName(agentId), group: options.group, running: true },
      files: new Map(),
      log: [],
      current: null,
      seen: new Set(),
      lastSequence: null,
      injections: 0,
    };
    agents.set(agentId, agent);
    byContainer.set(containerId, agent);
  }

  const agentIn = (containerId: string): SimulatedAgent => {
    const agent = byContainer.get(containerId);
    if (!agent) throw new DockerAdapterError('CONTAINER_NOT_FOUND', `no simulated container ${containerId}`);
    return agent;
  };

  async function act(agent: SimulatedAgent, reloadId: string, hasProgram: boolean): Promise<void> {
    if (agent.seen.has(reloadId)) return;
    agent.seen.add(reloadId);
    agent.injections++;
    const ts = () => new Date().toISOString();
    const finalLine = (programId: string | null, status: 'completed' | 'error', steps: number, error?: { code: string; message: string }): TraceLine => ({
      injectionId: reloadId,
      programId,
      status,
      final: true,
      steps,
      ts: ts(),
      durationMs: 0,
      ...(error ? { error } : {}),
    });
    if (!hasProgram) {
      agent.log.push(finalLine(null, 'error', 0, { code: 'BC_UNSIGNED', message: 'an unsigned clear is refused' }));
      return;
    }
    const staged = agent.files.get(`/app/injected-programs/.staged-${reloadId}.bc`);
    agent.files.delete(`/app/injected-programs/.staged-${reloadId}.bc`);
    if (!staged) {
      agent.log.push(finalLine(null, 'error', 0, { code: 'PROGRAM_UNREADABLE', message: 'no staged program' }));
      return;
    }
    let decoded;
    try {
      decoded = verifyForAgent(staged, { trustedKeys, agentId: agent.ref.agentId, group: agent.ref.group, reloadId, nowMs: Date.now(), lastSequence: agent.lastSequence });
    } catch (err) {
      agent.log.push(finalLine(null, 'error', 0, { code: (err as { code?: string }).code ?? 'BC_MALFORMED', message: String(err) }));
      return;
    }
    agent.lastSequence = decoded.container.envelope.sequence;
    const sequence = agent.lastSequence;
    if (decoded.programId === null) {
      agent.files.delete('/app/injected-programs/program.bc');
      agent.current = { programId: null, reloadId, sha256: null, sequence };
      agent.log.push(finalLine(null, 'completed', 0));
      return;
    }
    const body = { programId: decoded.programId, constants: decoded.constants, instructions: decoded.instructions };
    agent.files.set('/app/injected-programs/program.bc', staged);
    agent.current = { programId: body.programId, reloadId, sha256: decoded.container.envelope.bodySha256, sequence };
    try {
      const result = await runProgram(body, {
        handler: () => async () => ({ simulated: true }),
        variable: (name) => (name === 'agent_id' ? { tag: ValueTag.String, value: agent.ref.agentId } : undefined),
        onStep: (event) =>
          agent.log.push({ injectionId: reloadId, programId: body.programId, step: event.step, instruction: event.instruction, status: event.status, ts: ts() }),
      });
      agent.log.push(finalLine(body.programId, 'completed', result.directives));
    } catch (err) {
      agent.log.push(finalLine(body.programId, 'error', 0, { code: (err as { code?: string }).code ?? 'VM_ERROR', message: String(err) }));
    }
  }

  const docker: FleetDriver['docker'] = {
    async ping() {
      return { version: 'simulated', apiVersion: 'simulated' };
    },
    async listAgents(selector?: AgentSelector) {
      if (selector?.agentIds?.length === 1 && selector.group === undefined) {
        // One id (the activities' identity check per agent): a map lookup, not a walk over the whole fleet.
        const one = agents.get(selector.agentIds[0]);
        return one ? [one.ref] : [];
      }
      let refs = [...agents.values()].map((a) => a.ref);
      if (selector?.group) refs = refs.filter((r) => r.group === selector.group);
      if (selector?.agentIds) {
        const wanted = new Set(selector.agentIds);
        refs = refs.filter((r) => wanted.has(r.agentId));
      }
      return refs.sort((a, b) => a.agentId.localeCompare(b.agentId));
    },
    async findAgent(agentId: string) {
      return agents.get(agentId)?.ref ?? null;
    },
    async containerState(containerId: string) {
      agentIn(containerId);
      return { running: true, status: 'running', health: 'none' as const };
    },
    async readFile(containerId: string, path: string): Promise<FileRead> {
      const content = agentIn(containerId).files.get(path);
      return content ? { found: true, content, size: content.length } : { found: false };
    },
    async writeFile(containerId: string, path: string, content: Buffer) {
      agentIn(containerId).files.set(path, Buffer.from(content));
    },
  };

  const channel: AgentChannel = {
    // The simulated agents carry no dreamnet.protocol label, so the activities speak v1 to them and never call these.
    async sendV2() {
      throw new DockerAdapterError('INVALID_ARGUMENT', 'the simulated fleet speaks agent protocol v1 only');
    },
    async readOutcome() {
      throw new DockerAdapterError('INVALID_ARGUMENT', 'the simulated fleet speaks agent protocol v1 only');
    },
    async snapshot(containerId) {
      const agent = agentIn(containerId);
      return { program: agent.files.get('/app/injected-programs/program.bc') ?? null, current: agent.current, logOffset: agent.log.length };
    },
    async stage(containerId, reloadId, program) {
      if (program) agentIn(containerId).files.set(`/app/injected-programs/.staged-${reloadId}.bc`, Buffer.from(program));
    },
    async reload(containerId, reloadId, hasProgram) {
      await act(agentIn(containerId), reloadId, hasProgram);
    },
    async readTrace(containerId, reloadId, fromOffset): Promise<TraceResult> {
      // The simulated log is a list of lines, so the offset counts lines rather than bytes.
      const lines = agentIn(containerId).log.slice(fromOffset).filter((line) => line.injectionId === reloadId);
      const final = lines.find((line) => line.final) ?? null;
      return { lines, final, truncated: false };
    },
    async current(containerId) {
      return agentIn(containerId).current;
    },
    async touchedBy(containerId, reloadId) {
      // A simulated agent acts on a reload at once: it was touched when it switched to it (or staged it).
      const agent = agentIn(containerId);
      return agent.current?.reloadId === reloadId || agent.files.has(`/app/injected-programs/.staged-${reloadId}.bc`);
    },
  };

  return {
    docker,
    channel,
    reloadsActedOn: (agentId) => agents.get(agentId)?.injections ?? 0,
    current: (agentId) => agents.get(agentId)?.current ?? null,
    programBytes: (agentId) => agents.get(agentId)?.files.get('/app/injected-programs/program.bc')?.length ?? 0,
    agentIds: () => [...agents.keys()],
    signingKey: options.signingKey,
  };
}
