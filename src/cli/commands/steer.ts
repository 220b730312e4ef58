// `openclaw pause|resume|abort ID`: steer a running injection through its workflow's signals.
import { parseArgs } from 'node:util';
import { callGateway, GATEWAY_FLAGS, GATEWAY_FLAGS_USAGE, gatewayTarget, runGatewayCommand, usageErrors } from '../gateway-client';
import { CliCommand, CliIo, CliUsageError } from '../io';

type SteerKind = 'pause' | 'resume' | 'abort';

const SUMMARIES: Record<SteerKind, string> = {
  pause: 'stop launching agents (in-flight ones finish)',
  resume: 'launch agents again after a pause',
  abort: 'stop the rollout and roll back every agent it changed',
};

function usage(kind: SteerKind): string {
  return `usage: openclaw ${kind} INJECTION_ID${kind === 'abort' ? ' [--reason TEXT]' : ''}\n  ${SUMMARIES[kind]}\n${GATEWAY_FLAGS_USAGE}`;
}

function steer(kind: SteerKind): CliCommand['run'] {
  return (argv: string[], io: CliIo) =>
    runGatewayCommand(kind, usage(kind), argv, io, async () => {
      const { values, positionals } = usageErrors(() =>
        parseArgs({ args: argv, allowPositionals: true, strict: true, options: { ...GATEWAY_FLAGS, ...(kind === 'abort' ? { reason: { type: 'string' } } : {}) } }),
      );
      if (values.help) {
        io.stdout.write(usage(kind) + '\n');
        return 0;
      }
      if (positionals.length !== 1) throw new CliUsageError('give one INJECTION_ID');
      const reason = (values as { reason?: string }).reason;
      const { body } = await callGateway(gatewayTarget(values, io), 'POST', `/injections/${encodeURIComponent(positionals[0])}/${kind}`, {
        body: kind === 'abort' && reason !== undefined ? { reason } : undefined,
      });
      io.stdout.write(values.json ? JSON.stringify(body, null, 2) + '\n' : `${kind} sent to ${positionals[0]}\n`);
      return 0;
    });
}

export const pauseCommand: CliCommand = { name: 'pause', summary: SUMMARIES.pause, usage: usage('pause'), run: steer('pause') };
export const resumeCommand: CliCommand = { name: 'resume', summary: SUMMARIES.resume, usage: usage('resume'), run: steer('resume') };
export const abortCommand: CliCommand = { name: 'abort', summary: SUMMARIES.abort, usage: usage('abort'), run: steer('abort') };
