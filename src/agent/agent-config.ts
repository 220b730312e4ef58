// The agent's settings, read once from its environment and validated; a bad value stops the agent with a message.
import { DEFAULT_MAX_STEPS, DEFAULT_TIME_LIMIT_MS } from '../bytecode/vm';
import { parseTrustedKeys, TrustedKeys } from '../signing/keys';
import { SigningError } from '../signing/errors';
import { HEARTBEAT_FILE } from './heartbeat';
import { isAgentName, LOGS_DIR, PROGRAMS_DIR, STATE_DIR } from './protocol';

export const MAX_STEPS_CEILING = 1_000_000;
export const TIME_LIMIT_CEILING_MS = 24 * 60 * 60 * 1000;

export interface AgentConfig {
  agentId: string;
  group: string | null;
  /** OPENCLAW_TRUSTED_KEYS: the public keys (by key id) whose sealed programs this agent accepts. */
  trustedKeys: TrustedKeys;
  /** OPENCLAW_AGENT_MAX_STEPS: VM instructions per run (default 10,000). */
  maxSteps: number;
  /** OPENCLAW_AGENT_TIME_LIMIT_MS: wall-clock limit per run (default 60,000 ms). */
  timeLimitMs: number;
  programsDir: string;
  logsDir: string;
  stateDir: string;
  heartbeatFile: string;
}

export class AgentConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid agent configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'AgentConfigError';
  }
}

export function loadAgentConfig(env: Record<string, string | undefined>, hostname: string): AgentConfig {
  const problems: string[] = [];
  const agentId = env.OPENCLAW_AGENT_ID?.trim() || hostname;
  if (!isAgentName(agentId)) problems.push(`OPENCLAW_AGENT_ID=${JSON.stringify(agentId)}: expected letters, digits, . _ - (at most 63)`);
  const groupRaw = env.OPENCLAW_AGENT_GROUP?.trim() || null;
  if (groupRaw !== null && !isAgentName(groupRaw)) problems.push(`OPENCLAW_AGENT_GROUP=${JSON.stringify(groupRaw)}: expected letters, digits, . _ -`);
  if (env.OPENCLAW_SIGNING_KEY?.trim()) {
    problems.push('OPENCLAW_SIGNING_KEY must not reach an agent: agents hold public keys only (OPENCLAW_TRUSTED_KEYS)');
  }
  let trustedKeys: TrustedKeys = new Map();
  try {
    trustedKeys = parseTrustedKeys(env.OPENCLAW_TRUSTED_KEYS?.trim() ?? '');
    if (trustedKeys.size === 0) problems.push('OPENCLAW_TRUSTED_KEYS: expected at least one kid:base64-public-key entry');
  } catch (err) {
    if (!(err instanceof SigningError)) throw err;
    problems.push(err.message);
  }
  const integer = (name: string, fallback: number, max: number): number => {
    const raw = env[name]?.trim();
    if (!raw) return fallback;
    const n = Number(raw);
    if (!/^\d+$/.test(raw) || n < 1 || n > max) {
      problems.push(`${name}=${JSON.stringify(raw)}: expected an integer from 1 to ${max}`);
      return fallback;
    }
    return n;
  };
  const config: AgentConfig = {
    agentId,
    group: groupRaw,
    trustedKeys,
    maxSteps: integer('OPENCLAW_AGENT_MAX_STEPS', DEFAULT_MAX_STEPS, MAX_STEPS_CEILING),
    timeLimitMs: integer('OPENCLAW_AGENT_TIME_LIMIT_MS', DEFAULT_TIME_LIMIT_MS, TIME_LIMIT_CEILING_MS),
    programsDir: PROGRAMS_DIR,
    logsDir: LOGS_DIR,
    stateDir: STATE_DIR,
    heartbeatFile: HEARTBEAT_FILE,
  };
  if (problems.length > 0) throw new AgentConfigError(problems);
  return config;
}
