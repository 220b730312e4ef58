// `openclaw status ID [--offset N] [--limit N] [--watch]`: an injection's status, counts and one page of agents.
import { parseArgs } from 'node:util';
import type { InjectionView } from '../../gateway/injection-service';
import { callGateway, GATEWAY_FLAGS, GATEWAY_FLAGS_USAGE, gatewayTarget, runGatewayCommand, usageErrors } from '../gateway-client';
import { CliCommand, CliIo, CliUsageError } from '../io';
import { DEFAULT_WATCH_INTERVAL_MS, progressLine, progressWidth, watchInjection } from '../watch';

const USAGE = `usage: openclaw status INJECTION_ID [--offset N] [--limit N] [--watch]
  --offset N, --limit N  the page of per-agent results (default 0 and 50; at most 500)
  --watch                print live progress until the injection ends
${GATEWAY_FLAGS_USAGE}`;

/** The status as text; its first line, the progress, fits in `width` columns when one is given. No ETA: no pace is known. */
export function describeView(view: InjectionView, width?: number): string {
  const lines = [progressLine(view, Number.NaN, width)];
  lines.push(`  workflow ${view.workflowStatus}, started ${view.startedAt}${view.closedAt ? `, closed ${view.closedAt}` : ''}`);
  if (view.deadline) lines.push(`  deadline ${view.deadline}${view.paused ? ', PAUSED' : ''}, max parallel ${view.maxParallel}, failure budget ${view.failureBudget}`);
  if (view.error) lines.push(`  error ${view.error.code}: ${view.error.message}`);
  for (const agent of view.agents.items) lines.push(`  ${agent.agentId.padEnd(24)} ${agent.outcome.padEnd(16)} ${agent.error ?? ''}`.trimEnd());
  if (view.agents.total > view.agents.offset + view.agents.items.length) lines.push(`  … ${view.agents.total - view.agents.offset - view.agents.items.length} more (--offset ${view.agents.offset + view.agents.items.length})`);
  return lines.join('\n');
}

export async function run(argv: string[], io: CliIo): Promise<number> {
  return runGatewayCommand('status', USAGE, argv, io, async () => {
    const { values, positionals } = usageErrors(() =>
      parseArgs({ args: argv, allowPositionals: true, strict: true, options: { ...GATEWAY_FLAGS, offset: { type: 'string' }, limit: { type: 'string' }, watch: { type: 'boolean', default: false } } }),
    );
    if (values.help) {
      io.stdout.write(USAGE + '\n');
      return 0;
    }
    if (positionals.length !== 1) throw new CliUsageError('give one INJECTION_ID');
    const target = gatewayTarget(values, io);
    const id = encodeURIComponent(positionals[0]);
    if (values.watch) {
      const view = await watchInjection(target, positionals[0], io, { intervalMs: DEFAULT_WATCH_INTERVAL_MS, quiet: values.json });
      if (values.json) io.stdout.write(JSON.stringify(view, null, 2) + '\n');
      return view.status === 'succeeded' ? 0 : 1;
    }
    const query = new URLSearchParams();
    if (values.offset !== undefined) query.set('offset', values.offset);
    if (values.limit !== undefined) query.set('limit', values.limit);
    const { body } = await callGateway(target, 'GET', `/injections/${id}${query.size ? `?${query}` : ''}`);
    io.stdout.write((values.json ? JSON.stringify(body, null, 2) : describeView(body as InjectionView, progressWidth(io.stdout))) + '\n');
    return 0;
  });
}

export const statusCommand: CliCommand = { name: 'status', summary: "show an injection's status, counts and per-agent results", usage: USAGE, run };
