// `npm run bench`: runs every registered bench (or those named on the command line), prints a table and JSON lines.
import { compileBench } from './compile.bench';
import { run as runDockerAdapterBench } from './docker-adapter.bench';
import { run as runGatewayBench } from './gateway.bench';
import { run as runScaleBench } from './scale.bench';
import { run as runSwarmBench } from './swarm.bench';
import { Bench, measure, Measurement } from './harness';

/** Every bench; add yours here (bench/<name>.bench.ts exporting a Bench). */
export const BENCHES: readonly Bench[] = [compileBench];

/** Benches that drive real systems asynchronously and print their own table (not timed by harness.ts). */
export const ASYNC_BENCHES: ReadonlyArray<{ name: string; run(options: readonly string[]): Promise<void> }> = [
  { name: 'docker-adapter', run: runDockerAdapterBench },
  { name: 'gateway', run: runGatewayBench },
  { name: 'swarm', run: runSwarmBench },
  { name: 'scale', run: runScaleBench },
];

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
  const asyncSelected = ASYNC_BENCHES.filter((b) => names.length === 0 || names.includes(b.name));
  const syncNames = names.filter((n) => !ASYNC_BENCHES.some((b) => b.name === n));
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
