// Saved histories of every scenario (test/histories/*.json) replay against the current workflow code: a change that
// would break a running injection's replay fails here, before it reaches a worker. Refresh with
// `bash scripts/save-histories.sh` after an intended, versioned change (see docs/operations.md, "Upgrading").
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { Worker } from '@temporalio/worker';
import { testWorkflowBundle } from '../support/temporal';

const HISTORIES_DIR = path.resolve(__dirname, '..', 'histories');
const files = readdirSync(HISTORIES_DIR).filter((f) => f.endsWith('.json')).sort();

it('has saved histories of the swarm, agent and rollback workflows to replay', () => {
  const kinds = new Set(files.map((f) => (f.includes('~') ? (f.endsWith('~rollback.json') ? 'rollback' : 'agent') : 'swarm')));
  expect([...kinds].sort()).toEqual(['agent', 'rollback', 'swarm']);
});

it.each(files)('replays %s deterministically', async (file) => {
  const history = historyFromJSON(JSON.parse(readFileSync(path.join(HISTORIES_DIR, file), 'utf8')));
  const workflowId = file.replace(/^history-/, '').replace(/\.json$/, '').replace(/~/g, '/');
  await Worker.runReplayHistory({ workflowBundle: { codePath: testWorkflowBundle().bundlePath } }, history, workflowId);
});
