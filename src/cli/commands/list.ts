// `openclaw list [--status S] [--agent ID] [--limit N] [--page-token T]`: injections, one page at a time.
import { parseArgs } from 'node:util';
import type { InjectionSummary } from '../../gateway/injection-service';
import { callGateway, GATEWAY_FLAGS, GATEWAY_FLAGS_USAGE, gatewayTarget, runGatewayCommand, usageErrors } from '../gateway-client';
import { CliCommand, CliIo, CliUsageError } from '../io';

const USAGE = `usage: openclaw list [--status STATUS] [--agent AGENT_ID] [--limit N] [--page-token TOKEN]
  --status STATUS     e.g. rolling-out, paused, succeeded, aborted
  --agent AGENT_ID    only injections that reached this agent
  --limit N           at most N per page (default 20, at most 100)
  --page-token TOKEN  the next page: the token the previous page printed
${GATEWAY_FLAGS_USAGE}`;

export async function run(argv: string[], io: CliIo): Promise<number> {
  return runGatewayCommand('list', USAGE, argv, io, async () => {
    const { values, positionals } = usageErrors(() =>
      parseArgs({ args: argv, allowPositionals: true, strict: true, options: { ...GATEWAY_FLAGS, status: { type: 'string' }, agent: { type: 'string' }, limit: { type: 'string' }, 'page-token': { type: 'string' } } }),
    );
    if (values.help) {
      io.stdout.write(USAGE + '\n');
      return 0;
    }
    if (positionals.length > 0) throw new CliUsageError('list takes no positional arguments');
    const query = new URLSearchParams();
    if (values.status !== undefined) query.set('status', values.status);
    if (values.agent !== undefined) query.set('agent', values.agent);
    if (values.limit !== undefined) query.set('limit', values.limit);
    if (values['page-token'] !== undefined) query.set('pageToken', values['page-token']);
    const { body } = await callGateway(gatewayTarget(values, io), 'GET', `/injections${query.size ? `?${query}` : ''}`);
    if (values.json) {
      io.stdout.write(JSON.stringify(body, null, 2) + '\n');
      return 0;
    }
    const { items, nextPageToken } = body as { items: InjectionSummary[]; nextPageToken: string | null };
    const lines = items.map((i) => `${i.startedAt}  ${i.injectionId.padEnd(44)} ${(i.status ?? '-').padEnd(24)} ${i.workflowStatus}`);
    if (lines.length === 0) lines.push('no injections');
    if (nextPageToken) lines.push(`more: openclaw list … --page-token ${nextPageToken}`);
    io.stdout.write(lines.join('\n') + '\n');
    return 0;
  });
}

export const listCommand: CliCommand = { name: 'list', summary: 'list injections, filtered by status or agent', usage: USAGE, run };
