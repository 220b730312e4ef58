// What the Temporal Web UI shows beside each workflow (its static summary and details), so the tree of a swarm reads
// on its own: which program, which agents, who asked, and for a child which agent and program. Pure; workflows use it.
import type { Priority, TargetSelector } from './injection-types';

/** The Web UI shows the summary on one line; Temporal advises keeping it short. */
export const MAX_SUMMARY_CHARS = 200;
/** Details are markdown in the UI; the program is cut past this so a 256 KiB program does not ride in every start. */
export const MAX_DETAILS_PROGRAM_CHARS = 2_000;
/** Agent ids named in a summary before "and N more". */
const NAMED_AGENTS = 3;

function cut(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/** The program's first statement line (comments and blank lines skipped), for a summary. */
export function programHeadline(source: string): string {
  const line = source.split('\n').map((l) => l.trim()).find((l) => l !== '' && !l.startsWith('#'));
  // `REDUCE_COSTS BY 15% {` opens a block of settings: the headline is the statement without it.
  return line?.replace(/\s*\{$/, '') ?? '(empty program)';
}

export function targetsText(targets: TargetSelector): string {
  if (targets === null) return "the program's TARGET";
  if ('group' in targets) return `group ${targets.group}`;
  const named = targets.agentIds.slice(0, NAMED_AGENTS).join(', ');
  const more = targets.agentIds.length - NAMED_AGENTS;
  return `${targets.agentIds.length === 1 ? 'agent' : `${targets.agentIds.length} agents`} ${named}${more > 0 ? ` and ${more} more` : ''}`;
}

export interface SwarmDescription {
  injectionId: string;
  source: string;
  targets: TargetSelector;
  priority: Priority;
  requestedBy: string;
  requestId?: string;
}

/** `inject REDUCE_COSTS BY 15% → 3 agents a-1, a-2, a-3 (priority high)` */
export function swarmSummary(d: SwarmDescription): string {
  return cut(`inject ${programHeadline(d.source)} → ${targetsText(d.targets)} (priority ${d.priority})`, MAX_SUMMARY_CHARS);
}

export function swarmDetails(d: SwarmDescription): string {
  const program = cut(d.source, MAX_DETAILS_PROGRAM_CHARS);
  return [
    `**Injection** ${d.injectionId}`,
    `**Targets** ${targetsText(d.targets)}`,
    `**Priority** ${d.priority}`,
    `**Requested by** ${d.requestedBy}${d.requestId ? ` (request ${d.requestId})` : ''}`,
    '',
    '```',
    program.replace(/```/g, "'''"),
    '```',
  ].join('\n');
}

/** `agent a-1 ← program inj-… (sha256 0123456789ab)` */
export function agentInjectionSummary(agentId: string, programId: string, sha256: string): string {
  return cut(`agent ${agentId} ← program ${programId} (sha256 ${sha256.slice(0, 12)})`, MAX_SUMMARY_CHARS);
}

export function agentRollbackSummary(agentId: string, injectionId: string): string {
  return cut(`agent ${agentId}: roll back what ${injectionId} put there`, MAX_SUMMARY_CHARS);
}
