// `openclaw history AGENT_ID [--limit N] [--page-token T] [--trace]`: the agent's injections, newest first, a page at a time.
import { parseArgs } from 'node:util';
import type { AgentHistoryEntry } from '../../gateway/injection-service';
import { callGateway, GATEWAY_FLAGS, GATEWAY_FLAGS_USAGE, gatewayTarget, runGatewayCommand, usageErrors } from '../gateway-client';
import { CliCommand, CliIo, CliUsageError } from '../io';

const USAGE = `usage: openclaw history AGENT_ID [--limit N] [--page-token TOKEN] [--trace]
  --limit N           how many injections per page (default 20, at most 100)
  --page-token TOKEN  the next page: the token the previous page printed
  --trace             print each injection's trace lines too
${GATEWAY_FLAGS_USAGE}`;

export async function run(argv: string[], io: CliIo): Promise<number> {
  return runGatewayCommand('history', USAGE, argv, io, async () => {
    const { values, positionals } = usageErrors(() =>
      parseArgs({ args: argv, allowPositionals: true, strict: true, options: { ...GATEWAY_FLAGS, limit: { type: 'string' }, 'page-token': { type: 'string' }, trace: { type: 'boolean', default: false } } }),
    );
    if (values.help) {
      io.stdout.write(USAGE + '\n');
      return 0;
    }
    if (positionals.length !== 1) throw new CliUsageError('give one AGENT_ID');
    const query = new URLSearchParams();
    if (values.limit !== undefined) query.set('limit', values.limit);
    if (values['page-token'] !== undefined) query.set('pageToken', values['page-token']);
    const { body } = await callGateway(gatewayTarget(values, io), 'GET', `/history/${encodeURIComponent(positionals[0])}${query.size ? `?${query}` : ''}`);
    if (values.json) {
      io.stdout.write(JSON.stringify(body, null, 2) + '\n');
      return 0;
    }
    const history = body as { agentId: string; total: number; showing: number; history: AgentHistoryEntry[]; nextPageToken: string | null };
    const lines = [`${history.agentId}: ${history.showing} of ${history.total} injection(s), newest first`];
    for (const entry of history.history) {
      const ms = entry.closedAt ? Date.parse(entry.closedAt) - Date.parse(entry.startedAt) : null;
      const steps = entry.timings.map((t) => `${t.step} ${t.ms}ms`).join(', ');
      lines.push(`  ${entry.startedAt}  ${entry.injectionId}  ${entry.outcome}${ms === null ? '' : ` in ${ms} ms`}${steps ? ` (${steps})` : ''}${entry.error ? `  ${entry.error.code}: ${entry.error.message}` : ''}`);
      if (values.trace) for (const line of entry.trace?.lines ?? []) lines.push(`      ${JSON.stringify(line)}`);
    }
    if (history.nextPageToken) lines.push(`more: openclaw history ${history.agentId} --page-token ${history.nextPageToken}`);
    io.stdout.write(lines.join('\n') + '\n');
    return 0;
  });
}

export const historyCommand: CliCommand = { name: 'history', summary: "show an agent's injections with outcome, timings and trace", usage: USAGE, run };
