// `openclaw inject FILE (--agent ID | --agents A,B | --group G | the program's TARGET) [--watch]`: start an injection.
import { parseArgs } from 'node:util';
import { MAX_SOURCE_BYTES } from '../../compiler';
import { PRIORITIES } from '../../shared/injection-types';
import { callGateway, GATEWAY_FLAGS, GATEWAY_FLAGS_USAGE, gatewayTarget, runGatewayCommand, usageErrors } from '../gateway-client';
import { CliCommand, CliIo, CliUsageError } from '../io';
import { DEFAULT_WATCH_INTERVAL_MS, MIN_WATCH_INTERVAL_MS, watchInjection } from '../watch';
import { parseContext } from './compile';

const USAGE = `usage: openclaw inject FILE [--agent ID | --agents ID,ID,... | --group NAME] [options]
  FILE                   the program; - reads stdin. With no --agent/--agents/--group the program's TARGET decides
  --agent ID             one agent (POST /inject); otherwise a swarm (POST /inject-swarm)
  --agents ID,ID,...     these agents
  --group NAME           every agent labelled dreamnet.group=NAME
  --context JSON         the context object, e.g. '{"budget":500}'
  --priority P           ${PRIORITIES.join(' | ')}
  --idempotency-key KEY  a retry with the same key returns the same injection
  --wait                 let the gateway wait for the end (at most 60 s)
  --watch                print live progress until the end; exit 1 unless every agent was injected
  --interval MS          how often --watch asks (default ${DEFAULT_WATCH_INTERVAL_MS})
${GATEWAY_FLAGS_USAGE}`;

export async function run(argv: string[], io: CliIo): Promise<number> {
  return runGatewayCommand('inject', USAGE, argv, io, async () => {
    const { values, positionals } = usageErrors(() =>
      parseArgs({
        args: argv,
        allowPositionals: true,
        strict: true,
        options: {
          ...GATEWAY_FLAGS,
          agent: { type: 'string' },
          agents: { type: 'string' },
          group: { type: 'string' },
          context: { type: 'string', short: 'c' },
          priority: { type: 'string' },
          'idempotency-key': { type: 'string' },
          wait: { type: 'boolean', default: false },
          watch: { type: 'boolean', default: false },
          interval: { type: 'string' },
        },
      }),
    );
    if (values.help) {
      io.stdout.write(USAGE + '\n');
      return 0;
    }
    if (positionals.length !== 1) throw new CliUsageError(positionals.length === 0 ? 'FILE is missing' : 'give one FILE');
    const chosen = [values.agent, values.agents, values.group].filter((v) => v !== undefined);
    if (chosen.length > 1) throw new CliUsageError('give at most one of --agent, --agents and --group');
    const intervalMs = values.interval === undefined ? DEFAULT_WATCH_INTERVAL_MS : Number(values.interval);
    if (!Number.isInteger(intervalMs) || intervalMs < MIN_WATCH_INTERVAL_MS) throw new CliUsageError(`--interval must be a whole number of milliseconds, at least ${MIN_WATCH_INTERVAL_MS}`);
    const target = gatewayTarget(values, io);
    const file = positionals[0];
    let instruction: string;
    try {
      instruction = file === '-' ? await io.readStdin(MAX_SOURCE_BYTES + 1) : await io.readFile(file);
    } catch (err) {
      if (err instanceof CliUsageError) throw err;
      throw new CliUsageError(`cannot read ${file}: ${(err as Error).message}`);
    }
    const common = { instruction, context: parseContext(values.context), priority: values.priority };
    const body =
      values.agent !== undefined
        ? { agentId: values.agent, ...common }
        : { ...common, agents: values.agents?.split(',').map((a) => a.trim()).filter((a) => a !== ''), group: values.group };
    const path = `${values.agent !== undefined ? '/inject' : '/inject-swarm'}${values.wait ? '?wait=true' : ''}`;
    const headers: Record<string, string> = values['idempotency-key'] ? { 'Idempotency-Key': values['idempotency-key'] } : {};
    const { body: answer } = await callGateway(target, 'POST', path, { body: body, headers });
    const started = answer as { injectionId: string; statusUrl: string; created: boolean; status?: string };

    if (!values.watch) {
      if (values.json) io.stdout.write(JSON.stringify(answer, null, 2) + '\n');
      else io.stdout.write(`${started.created ? 'started' : 'already started'} ${started.injectionId}${started.status ? ` (${started.status})` : ''}; status: ${target.url}${started.statusUrl}\n`);
      return started.status === undefined || started.status === 'succeeded' ? 0 : 1;
    }
    if (!values.json) io.stdout.write(`${started.created ? 'started' : 'already started'} ${started.injectionId}\nwatching it (Ctrl-C stops the watch, not the injection)\n`);
    const view = await watchInjection(target, started.injectionId, io, { intervalMs, quiet: values.json });
    if (values.json) io.stdout.write(JSON.stringify(view, null, 2) + '\n');
    else io.stdout.write(`${view.injectionId} ended: ${view.status}${view.error ? ` (${view.error.code}: ${view.error.message})` : ''}\n`);
    return view.status === 'succeeded' ? 0 : 1;
  });
}

export const injectCommand: CliCommand = { name: 'inject', summary: 'start an injection into one agent or a swarm (--watch shows progress)', usage: USAGE, run };
