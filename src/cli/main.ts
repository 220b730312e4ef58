#!/usr/bin/env node
// The `openclaw` operator CLI: looks the subcommand up in a small table and runs it.
import { compileCommand } from './commands/compile';
import { historyCommand } from './commands/history';
import { injectCommand } from './commands/inject';
import { listCommand } from './commands/list';
import { statusCommand } from './commands/status';
import { abortCommand, pauseCommand, resumeCommand } from './commands/steer';
import { CliCommand, CliIo, processIo } from './io';

/** Every subcommand; add new ones here (each in src/cli/commands/<name>.ts). */
export const COMMANDS: readonly CliCommand[] = [compileCommand, injectCommand, statusCommand, pauseCommand, resumeCommand, abortCommand, historyCommand, listCommand];

function overview(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return ['usage: openclaw <command> [options]', '', 'commands:', ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`), '', 'openclaw <command> --help shows its options.'].join('\n');
}

export async function main(argv: string[], io: CliIo): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    io.stdout.write(overview() + '\n');
    return name === undefined ? 2 : 0;
  }
  const command = COMMANDS.find((c) => c.name === name);
  if (!command) {
    io.stderr.write(`openclaw: unknown command '${name}'\n${overview()}\n`);
    return 2;
  }
  return command.run(rest, io);
}

if (require.main === module) {
  main(process.argv.slice(2), processIo()).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      console.error(`openclaw: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
      process.exitCode = 1;
    },
  );
}
