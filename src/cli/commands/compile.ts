// `openclaw compile FILE [--context JSON] [--json]`: compile a program and print its disassembly or a JSON record;
// `--bytecode FILE.bc` lists a program file instead and says what its signature was verified against.
import { parseArgs } from 'node:util';
import { formatDuration } from '../../bytecode/arith';
import { disassemble } from '../../bytecode/disassemble';
import { BytecodeError, MAX_PROGRAM_BYTES } from '../../bytecode/format';
import { disassembleChecked } from '../../signing/describe';
import { compile, formatDiagnostic, MAX_SOURCE_BYTES, RolloutSettings, Share } from '../../compiler';
import { ConfigError } from '../../config';
import { CliCommand, CliIo, CliUsageError } from '../io';

/** Program id written into bytecode compiled from the CLI (the gateway uses the injection id instead). */
export const CLI_PROGRAM_ID = 'openclaw-cli';

const USAGE = `usage: openclaw compile FILE [--context JSON] [--json] [--program-id ID] [--no-optimize]
       openclaw compile --bytecode FILE.bc
  FILE             the program; - reads stdin; the output is unsigned (a dry run: no agent accepts it)
  --bytecode       FILE is a program file (bytecode v2): list it and check its signature against the trusted keys
                   (OPENCLAW_TRUSTED_KEYS, the signing key's public half, the dev key)
  --context JSON   the context object that \${name} refers to, e.g. '{"deadline":"2h","budget":500}'
  --json           print {ok, bytecode (base64), rollout, directives, diagnostics} instead of the disassembly
  --program-id ID  the id written into the bytecode (default ${CLI_PROGRAM_ID})
  --no-optimize    keep constant expressions and dead branches (for comparing with the optimized form)`;

function share(s: Share): string {
  return s.kind === 'percent' ? `${s.value}%` : String(s.value);
}

function describeRollout(r: RolloutSettings): string {
  return [
    `; rollout   target=${r.target ?? '(explicit agents)'} deadline=${formatDuration(r.deadlineMs)} max_parallel=${r.maxParallel}`,
    `;           max_failures=${share(r.maxFailures)} canary=${share(r.canary)} retries=${r.retries} trace_timeout=${formatDuration(r.traceTimeoutMs)}`,
  ].join('\n');
}

export function parseContext(text: string | undefined): Record<string, unknown> | undefined {
  if (text === undefined) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new CliUsageError(`--context is not valid JSON: ${(err as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new CliUsageError('--context must be a JSON object');
  return parsed as Record<string, unknown>;
}

export async function run(argv: string[], io: CliIo): Promise<number> {
  try {
    return await compileCommandLine(argv, io);
  } catch (err) {
    if (err instanceof CliUsageError || err instanceof ConfigError) {
      io.stderr.write(`openclaw compile: ${err.message}\n${err instanceof CliUsageError ? USAGE + '\n' : ''}`);
      return 2;
    }
    throw err;
  }
}

async function compileCommandLine(argv: string[], io: CliIo): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        context: { type: 'string', short: 'c' },
        json: { type: 'boolean', default: false },
        'program-id': { type: 'string', default: CLI_PROGRAM_ID },
        'no-optimize': { type: 'boolean', default: false },
        bytecode: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (err) {
    throw new CliUsageError((err as Error).message);
  }
  const { values, positionals } = parsed;
  if (values.help) {
    io.stdout.write(USAGE + '\n');
    return 0;
  }
  if (positionals.length !== 1) throw new CliUsageError(positionals.length === 0 ? 'FILE is missing' : 'give one FILE');
  const file = positionals[0];
  if (values.bytecode) return listBytecode(file, io);
  const context = parseContext(values.context);
  let source: string;
  try {
    source = file === '-' ? await io.readStdin(MAX_SOURCE_BYTES + 1) : await io.readFile(file);
  } catch (err) {
    if (err instanceof CliUsageError) throw err;
    throw new CliUsageError(`cannot read ${file}: ${(err as Error).message}`);
  }
  const shownName = file === '-' ? '<stdin>' : file;
  const result = compile(source, context, {
    programId: values['program-id'] ?? CLI_PROGRAM_ID,
    dryRun: true,
    optimize: !values['no-optimize'],
  });

  for (const d of result.diagnostics) io.stderr.write(formatDiagnostic(shownName, source, d) + '\n');
  if (values.json) {
    const record = {
      ok: result.ok,
      bytecode: result.bytecode?.toString('base64') ?? null,
      rollout: result.rollout,
      directives: result.directives,
      diagnostics: result.diagnostics,
    };
    io.stdout.write(JSON.stringify(record, null, 2) + '\n');
  } else if (result.ok && result.bytecode && result.rollout) {
    io.stdout.write(`${disassemble(result.bytecode)}\n${describeRollout(result.rollout)}\n`);
  }
  return result.ok ? 0 : 1;
}

/** `--bytecode`: a program file's listing; exit 0 only when its signature verified against a trusted key. */
async function listBytecode(file: string, io: CliIo): Promise<number> {
  if (!io.readBinaryFile) throw new CliUsageError('--bytecode cannot read files here');
  let bytes: Buffer;
  try {
    bytes = await io.readBinaryFile(file);
  } catch (err) {
    throw new CliUsageError(`cannot read ${file}: ${(err as Error).message}`);
  }
  if (bytes.length > MAX_PROGRAM_BYTES) throw new CliUsageError(`${file} is ${bytes.length} bytes, over the ${MAX_PROGRAM_BYTES}-byte bound of a program`);
  let listing: string;
  try {
    listing = disassembleChecked(bytes, io.trustedKeys());
  } catch (err) {
    if (!(err instanceof BytecodeError)) throw err;
    io.stderr.write(`openclaw compile: ${file}: ${err.code}: ${err.message}\n`);
    return 1;
  }
  io.stdout.write(listing + '\n');
  return /^; signature Ed25519, verified/m.test(listing) ? 0 : 1;
}

export const compileCommand: CliCommand = {
  name: 'compile',
  summary: 'compile a DSL program and print its bytecode disassembly (or JSON)',
  usage: USAGE,
  run,
};
