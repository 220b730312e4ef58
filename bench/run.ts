// `npm run bench`: runs every registered bench (or those named on the command line), prints a table and JSON lines.
import { compileBench } from './compile.bench';
import { run as runDockerAdapterBench } from './docker-adapter.bench';
import { run as runGatewayBench } from './gateway.bench';
import { OPTIONS as IDLE_OPTIONS, run as runIdleBench } from './idle.bench';
import { OPTIONS as OPENCLAW_OPTIONS, run as runOpenClawBench } from './openclaw.bench';
import { OPTIONS as SCALE_OPTIONS, run as runScaleBench } from './scale.bench';
import { OPTIONS as SWARM_OPTIONS, run as runSwarmBench } from './swarm.bench';
import { Bench, measure, Measurement } from './harness';
import { parseOptions } from './measure';

/** Every bench; add yours here (bench/<name>.bench.ts exporting a Bench). */
export const BENCHES: readonly Bench[] = [compileBench];

/** Benches that drive real systems asynchronously and print their own table (not timed by harness.ts). */
export const ASYNC_BENCHES: ReadonlyArray<{ name: string; options: readonly string[]; run(options: readonly string[]): Promise<void> }> = [
  { name: 'docker-adapter', options: [], run: runDockerAdapterBench },
  { name: 'gateway', options: [], run: runGatewayBench },
  { name: 'swarm', options: SWARM_OPTIONS, run: runSwarmBench },
  { name: 'scale', options: SCALE_OPTIONS, run: runScaleBench },
  { name: 'idle', options: IDLE_OPTIONS, run: runIdleBench },
  { name: 'openclaw', options: OPENCLAW_OPTIONS, run: runOpenClawBench },
];

const USAGE = [
  'usage: npm run bench [-- [name…] [--option value…]]',
  `  names: ${[...BENCHES.map((b) => b.name), ...ASYNC_BENCHES.map((b) => b.name)].join(', ')} (none: all of them)`,
  ...ASYNC_BENCHES.filter((b) => b.options.length > 0).map((b) => `  ${b.name} options: ${b.options.map((o) => `--${o}`).join(', ')}`),
  '  see BENCHMARKS.md for what each bench measures and how long it takes',
].join('\n');

function table(rows: Measurement[]): string {
  const header = ['bench', 'case', 'ops/s', 'baseline ops/s', 'ratio', 'target'];
  const cells = rows.map((r) => [
    r.bench,
    r.case,
    r.opsPerSec.toLocaleString('en-US'),
    r.baselineOpsPerSec.toLocaleString('en-US'),
    String(r.ratio),
    r.targetOpsPerSec === null ? '-' : `${r.meetsTarget ? 'met' : 'MISSED'} (>= ${r.targetOpsPerSec.toLocaleString('en-US')}/s)`,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
  const line = (c: string[]) => c.map((v, i) => v.padEnd(widths[i])).join('  ');
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line)].join('\n');
}

export function runBenches(names: string[]): Measurement[] {
  const selected = names.length === 0 ? BENCHES : BENCHES.filter((b) => names.includes(b.name));
  if (selected.length === 0) throw new Error(`no bench named ${names.join(', ')}; known: ${BENCHES.map((b) => b.name).join(', ')}`);
  const results: Measurement[] = [];
  for (const bench of selected) {
    console.log(`${bench.name}: baseline is ${bench.baseline}`);
    for (const c of bench.cases()) results.push(measure(bench, c));
  }
  return results;
}

if (require.main === module) {
  // `npm run bench -- swarm scale --agents 200`: bench names first, then `--option value` pairs for the async benches.
  const args = process.argv.slice(2);
  const firstOption = args.findIndex((a) => a.startsWith('--'));
  const names = firstOption < 0 ? args : args.slice(0, firstOption);
  const options = firstOption < 0 ? [] : args.slice(firstOption);
  if (args.includes('--help') || args.includes('-h')) {
    console.log(USAGE);
    process.exit(0);
  }
  const asyncSelected = ASYNC_BENCHES.filter((b) => names.length === 0 || names.includes(b.name));
  const syncNames = names.filter((n) => !ASYNC_BENCHES.some((b) => b.name === n));
  // Names and options are checked before anything runs: a typo must not start a 10-minute bench with its defaults.
  try {
    const unknown = syncNames.filter((n) => !BENCHES.some((b) => b.name === n));
    if (unknown.length > 0) throw new Error(`no bench named ${unknown.join(', ')}`);
    parseOptions(options, [...new Set(asyncSelected.flatMap((b) => b.options))]);
  } catch (err) {
    console.error(`${(err as Error).message}\n${USAGE}`);
    process.exit(2);
  }
  if (names.length === 0 || syncNames.length > 0) {
    const results = runBenches(syncNames);
    console.log(`\n${table(results)}\n`);
    for (const r of results) console.log(JSON.stringify(r));
    if (results.some((r) => r.meetsTarget === false)) process.exitCode = 1;
  }
  void (async () => {
    for (const bench of asyncSelected) await bench.run(options);
  })().catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  });
}
