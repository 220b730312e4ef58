// Upgrading the injector while a rollout runs (Worker Versioning): a rollout starts on build A; `npm run cluster --
// upgrade B` starts B's workers beside A's and makes B the current version; the rollout finishes on A (swarm and agent
// workflows pinned there), a new injection runs on B, A is reported drained and its workers stop. No workflow task
// fails (no replay error) and no agent is touched twice.
import { readFileSync } from 'node:fs';
import { Client, Connection } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { workerProcesses } from '../../scripts/cluster/injector';
import { runningPid } from '../../scripts/cluster/processes';
import { FRONTEND_SERVER_NAME, WORKER_DEPLOYMENT_NAME } from '../../scripts/cluster/settings';
import { currentBuildIdOf, drainageStatusOf } from '../../scripts/cluster/temporal';
import type { AgentHistoryEntry, InjectionView } from '../../src/gateway/injection-service';
import { eventually } from '../gateway/support';
import { startClusterAgents } from './support-agents';
import { clusterCommand, gatewayRequest, testCluster, untilDone } from './support';

const ROLLOUT_AGENTS_PER_ENGINE = 3;
const NEW_AGENTS_PER_ENGINE = 1;
/** Slow enough (one agent at a time, 4 s of work each: about 30 s) that the upgrade lands while the rollout is under way. */
const SLOW_INSTRUCTION = 'SIMULATE_WORK BY 4s {\n  MAX_PARALLEL: 1\n  CANARY: 0\n}';
const QUICK_INSTRUCTION = 'OPTIMIZE_THROUGHPUT {\n  MAX_PARALLEL: 4\n  CANARY: 0\n}';
const DRAIN_TIMEOUT_S = 300;
const UPGRADE_TEST_TIMEOUT_MS = 600_000;
const { VersioningBehavior, EventType } = temporal.api.enums.v1;

const cluster = testCluster();
let rolloutAgents: Awaited<ReturnType<typeof startClusterAgents>>;
let newAgents: Awaited<ReturnType<typeof startClusterAgents>>;
let connection: Connection;
let client: Client;

beforeAll(async () => {
  rolloutAgents = await startClusterAgents('cluster-upgrade', ROLLOUT_AGENTS_PER_ENGINE);
  newAgents = await startClusterAgents('cluster-upgrade-new', NEW_AGENTS_PER_ENGINE);
  const cli = cluster.certs.clients['temporal-cli'];
  connection = await Connection.connect({
    address: cluster.frontendAddress,
    tls: { serverNameOverride: FRONTEND_SERVER_NAME, serverRootCACertificate: readFileSync(cluster.certs.ca), clientCertPair: { crt: readFileSync(cli.cert), key: readFileSync(cli.key) } },
  });
  client = new Client({ connection, namespace: cluster.settings.namespace });
}, 300_000);
afterAll(async () => {
  await connection?.close();
  await rolloutAgents?.remove();
  await newAgents?.remove();
});

/** True while the process runs: not gone and not a zombie (an exited worker may wait a moment to be reaped by whoever adopted it). */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/** The version a workflow's tasks ran on and its behaviour, as the server records it; and whether any workflow task failed. */
async function versionOf(workflowId: string): Promise<{ buildId: string | undefined; behavior: string; failedTasks: number }> {
  const handle = client.workflow.getHandle(workflowId);
  const { raw } = await handle.describe();
  const info = raw.workflowExecutionInfo?.versioningInfo;
  const history = await handle.fetchHistory();
  const failedTasks = (history.events ?? []).filter((e) => e.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED).length;
  return {
    buildId: info?.deploymentVersion?.buildId ?? undefined,
    behavior: VersioningBehavior[info?.behavior ?? VersioningBehavior.VERSIONING_BEHAVIOR_UNSPECIFIED],
    failedTasks,
  };
}

/** Every agent injected once by this injection (one child in its history) and running the program its row names; its workflows on `buildId`. */
async function expectInjectedOn(agents: typeof rolloutAgents, view: InjectionView, buildId: string): Promise<void> {
  const total = agents.engines.reduce((n, e) => n + e.agents.length, 0);
  expect(view.status).toBe('succeeded');
  expect(view.counts).toMatchObject({ total, injected: total, failed: 0 });
  expect(await versionOf(view.injectionId)).toEqual({ buildId, behavior: 'VERSIONING_BEHAVIOR_PINNED', failedTasks: 0 });
  for (const engine of agents.engines) {
    for (const agent of engine.agents) {
      const row = view.agents.items.find((a) => a.agentId === agent.agentId);
      expect(row).toMatchObject({ outcome: 'injected', host: engine.hostName, childWorkflowId: expect.any(String) });
      expect(await versionOf(row!.childWorkflowId!)).toEqual({ buildId, behavior: 'VERSIONING_BEHAVIOR_PINNED', failedTasks: 0 });
      const rows = await eventually(async () => {
        const history = await gatewayRequest('GET', `/history/${agent.agentId}`);
        const mine = history.status === 200 ? (history.body.history as AgentHistoryEntry[]).filter((h) => h.injectionId === view.injectionId) : [];
        return mine.length > 0 && mine.every((h) => h.workflowStatus !== 'RUNNING') ? mine : undefined;
      }, `the history of ${agent.agentId} to show ${view.injectionId}`);
      expect(rows).toHaveLength(1);
      expect(await engine.channel.current(agent.containerId)).toMatchObject({ reloadId: view.injectionId, programId: rows[0].programId });
    }
  }
}

describe('upgrading the injector mid-rollout (Worker Versioning)', () => {
  it(
    'a rollout started on build A finishes on A while B becomes current; a new injection runs on B; A drains and its workers stop',
    async () => {
      const buildA = readFileSync(cluster.paths.buildIdFile, 'utf8').trim();
      const buildB = `${buildA.slice(0, 100)}-next-${Date.now().toString(36)}`;
      expect(await currentBuildIdOf(cluster.settings, cluster.certs, WORKER_DEPLOYMENT_NAME)).toBe(buildA);
      const oldPids = workerProcesses(cluster.settings, cluster.paths).map((w) => runningPid(w.proc));
      expect(oldPids).toEqual(oldPids.map(() => expect.any(Number)));

      const first = await gatewayRequest('POST', '/inject-swarm', { group: rolloutAgents.group, instruction: SLOW_INSTRUCTION });
      expect(first.status).toBe(202);
      const firstId = first.body.injectionId as string;
      await eventually(async () => {
        const { body } = await gatewayRequest('GET', `/injections/${firstId}?limit=500`);
        return ((body as unknown as InjectionView).counts?.injected ?? 0) >= 1 ? true : undefined;
      }, `the first agent of ${firstId} to be injected`, 120_000);

      const upgrading = clusterCommand(['upgrade', buildB, '--drain-timeout-s', String(DRAIN_TIMEOUT_S)]);
      // An upgrade that fails fails the test with its own output, not with a wait that runs out.
      let upgradeError: unknown;
      upgrading.catch((err: unknown) => {
        upgradeError = err;
      });
      await eventually(async () => {
        if (upgradeError !== undefined) throw upgradeError;
        return (await currentBuildIdOf(cluster.settings, cluster.certs, WORKER_DEPLOYMENT_NAME)) === buildB ? true : undefined;
      }, `build ${buildB} to become current`, 180_000);
      const midway = (await gatewayRequest('GET', `/injections/${firstId}?limit=500`)).body as unknown as InjectionView;
      expect(midway.done).toBe(false);

      const second = await gatewayRequest('POST', '/inject-swarm', { group: newAgents.group, instruction: QUICK_INSTRUCTION });
      expect(second.status).toBe(202);
      const secondView = await untilDone(second.body.injectionId as string);
      const firstView = await untilDone(firstId, 300_000);
      const output = await upgrading;

      await expectInjectedOn(rolloutAgents, firstView, buildA);
      await expectInjectedOn(newAgents, secondView, buildB);
      expect(output).toContain(`build ${buildA} drained`);
      expect(await drainageStatusOf(cluster.settings, cluster.certs, WORKER_DEPLOYMENT_NAME, buildA)).toBe('DRAINED');
      // A's workers are gone; B's run under the usual names, and the cluster records B.
      for (const pid of oldPids) expect(alive(pid as number)).toBe(false);
      const newPids = workerProcesses(cluster.settings, cluster.paths).map((w) => runningPid(w.proc));
      expect(newPids).toEqual(newPids.map(() => expect.any(Number)));
      expect(readFileSync(cluster.paths.buildIdFile, 'utf8').trim()).toBe(buildB);
      expect(await currentBuildIdOf(cluster.settings, cluster.certs, WORKER_DEPLOYMENT_NAME)).toBe(buildB);
    },
    UPGRADE_TEST_TIMEOUT_MS,
  );
});
