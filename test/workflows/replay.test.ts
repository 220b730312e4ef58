// Saved histories of every scenario (test/histories/<generation>/*.json, one generation per build that changed the
// workflows) replay against the current workflow code: a change that would break a running injection's replay fails
// here, before it reaches a worker. Add a generation with `bash scripts/save-histories.sh <n>-<name>` after an
// intended, patched change (see docs/operations.md, "Upgrading").
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { Worker } from '@temporalio/worker';
import { testWorkflowBundle } from '../support/temporal';

const HISTORIES_DIR = path.resolve(__dirname, '..', 'histories');
const generations = readdirSync(HISTORIES_DIR, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name).sort();
const files = generations.flatMap((g) => readdirSync(path.join(HISTORIES_DIR, g)).filter((f) => f.endsWith('.json')).sort().map((f) => path.join(g, f)));

it.each(generations)('has saved histories of the swarm, agent and rollback workflows in generation %s', (generation) => {
  const names = files.filter((f) => path.dirname(f) === generation).map((f) => path.basename(f));
  const kinds = new Set(names.map((f) => (f.includes('~') ? (f.endsWith('~rollback.json') ? 'rollback' : 'agent') : 'swarm')));
  expect([...kinds].sort()).toEqual(['agent', 'rollback', 'swarm']);
});

it.each(files)('replays %s deterministically', async (file) => {
  const history = historyFromJSON(JSON.parse(readFileSync(path.join(HISTORIES_DIR, file), 'utf8')));
  const workflowId = path.basename(file).replace(/^history-/, '').replace(/\.json$/, '').replace(/~/g, '/');
  await Worker.runReplayHistory({ workflowBundle: { codePath: testWorkflowBundle().bundlePath } }, history, workflowId);
});
