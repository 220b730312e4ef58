// The Web UI's one-line summaries and markdown details stay bounded and say which program reached which agents.
import { agentInjectionSummary, MAX_DETAILS_PROGRAM_CHARS, MAX_SUMMARY_CHARS, swarmDetails, swarmSummary } from '../../src/shared/ui-summaries';

const base = { injectionId: 'inj-1', source: '# rollout\n\nREDUCE_COSTS BY 15% {\n  BUDGET: $500\n}', priority: 'high' as const, requestedBy: 'token:0123456789abcdef' };

describe('Web UI summaries', () => {
  it('name the program by its first statement and the targets, with a count past three agents', () => {
    expect(swarmSummary({ ...base, targets: { agentIds: ['a-1'] } })).toBe('inject REDUCE_COSTS BY 15% → agent a-1 (priority high)');
    expect(swarmSummary({ ...base, targets: { agentIds: ['a-1', 'a-2', 'a-3', 'a-4', 'a-5'] } })).toBe('inject REDUCE_COSTS BY 15% → 5 agents a-1, a-2, a-3 and 2 more (priority high)');
    expect(swarmSummary({ ...base, targets: null })).toBe("inject REDUCE_COSTS BY 15% → the program's TARGET (priority high)");
    expect(agentInjectionSummary('a-1', 'inj-1', 'f'.repeat(64))).toBe('agent a-1 ← program inj-1 (sha256 ffffffffffff)');
  });

  it('stay within their bounds for a huge program and 10,000 agents, and keep the program from closing the code fence', () => {
    const huge = { ...base, source: `${'X'.repeat(300_000)}\n\`\`\`\nSTOP`, targets: { agentIds: Array.from({ length: 10_000 }, (_, i) => `agent-${i}`) } };
    expect(swarmSummary(huge).length).toBeLessThanOrEqual(MAX_SUMMARY_CHARS);
    const details = swarmDetails(huge);
    expect(details.length).toBeLessThan(MAX_DETAILS_PROGRAM_CHARS + 500);
    expect(details.match(/```/g)).toHaveLength(2);
    expect(swarmDetails({ ...base, source: 'OPTIMIZE_THROUGHPUT\n```\n**not markdown**', targets: null }).match(/```/g)).toHaveLength(2);
  });
});
