// `openclaw list [--status S] [--agent ID] [--limit N]`: injections, newest first.
import { parseArgs } from 'node:util';
import type { InjectionSummary } from '../../gateway/injection-service';
import { callGateway, GATEWAY_FLAGS, GATEWAY_FLAGS_USAGE, gatewayTarget, runGatewayCommand, usageErrors } from '../gateway-client';
import { CliCommand, CliIo, CliUsageError } from '../io';

const USAGE = `usage: openclaw list [--status STATUS] [--agent AGENT_ID] [--limit N]
  --status STATUS   e.g. rolling-out, paused, succeeded, aborted
  --agent AGENT_ID  only injections that reached this agent
  --limit N         at most N (default 20, at most 100)
${GATEWAY_FLAGS_USAGE}`;

export async function run(argv: string[], io: CliIo): Promise<number> {
  return runGatewayCommand('list', USAGE, argv, io, async () => {
    const { values, positionals } = usageErrors(() =>
      parseArgs({ args: argv, allowPositionals: true, strict: true, options: { ...GATEWAY_FLAGS, status: { type: 'string' }, agent: { type: 'string' }, limit: { type: 'string' } } }),
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
    const { body } = await callGateway(gatewayTarget(values, io), 'GET', `/injections${query.size ? `?${query}` : ''}`);
    if (values.json) {
      io.stdout.write(JSON.stringify(body, null, 2) + '\n');
      return 0;
    }
    const { items } = body as { items: InjectionSummary[] };
    const lines = items.map((i) => `${i.startedAt}  ${i.injectionId.padEnd(44)} ${(i.status ?? '-').padEnd(24)} ${i.workflowStatus}`);
    io.stdout.write((lines.length ? lines.join('\n') : 'no injections') + '\n');
    return 0;
  });
}

export const listCommand: CliCommand = { name: 'list', summary: 'list injections, filtered by status or agent', usage: USAGE, run };
